"""Shared by every system test folder.

Each folder keeps its helpers in a uniquely named module (fta_proxy_support, fta_install_support,
fta_freqtrade_support, fta_portal_support, webportal, ...). scripts/test runs pytest with
--import-mode=importlib, which does not put test folders on sys.path, so they are added here once.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for name in sorted(os.listdir(HERE)):
    folder = os.path.join(HERE, name)
    if os.path.isdir(folder) and not name.startswith(("_", ".")) and folder not in sys.path:
        sys.path.insert(0, folder)
