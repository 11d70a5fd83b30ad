"""The AWS template's tests share these: loading deploy/aws/fta-ec2.yaml with cfn-lint's own
decoder (it understands !Ref, !Sub, !If, ...), resolving it for one set of parameters the way
CloudFormation would (conditions, !If, !Ref, !Sub, AWS::NoValue), and the property checks that
the tests run on the real template and on mutated copies of it.

Nothing here talks to AWS: GetAtt and Ref to resources resolve to placeholders, or to values a
test supplies (the wait condition's URL becomes a local server's).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from fta_system_support import missing

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "deploy" / "aws" / "fta-ec2.yaml"
# Where the user data puts the first admin's password (with FTA_BOOT_ROOT unset): the template's
# outputs and docs/aws.md name this path.
PASSWORD_FILE = "/root/fta-admin-password"
PSEUDO = {"AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws",
          "AWS::StackName": "fta-test", "AWS::AccountId": "123456789012"}
NO_VALUE = object()


def load_template(text: str | None = None) -> dict:
    """The template (or `text`) as plain dicts and lists, parsed by cfn-lint's decoder."""
    try:
        from cfnlint.decode import decode, decode_str
    except ImportError:
        missing("cfn-lint is not installed (Tests/system/requirements.txt)")
    template, problems = decode_str(text) if text is not None else decode(str(TEMPLATE))
    assert not problems and template is not None, [str(p) for p in problems or []]
    return json.loads(json.dumps(template))  # cfn-lint's node classes -> plain values


class Resolved:
    """The template as CloudFormation would see it with these parameters: conditions evaluated,
    resources whose Condition is false dropped, intrinsic functions replaced by values."""

    def __init__(self, template: dict, parameters: dict[str, str], refs: dict[str, str] | None = None):
        self.template = copy.deepcopy(template)
        self.refs = dict(refs or {})
        self.parameters = {}
        for name, spec in self.template.get("Parameters", {}).items():
            value = parameters.get(name, spec.get("Default"))
            if value is None:
                raise ValueError(f"parameter {name} has no default and no value")
            check_parameter(name, spec, str(value))
            self.parameters[name] = value
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise ValueError(f"no such parameters: {sorted(unknown)}")
        self.conditions: dict[str, bool] = {}
        for name in self.template.get("Conditions", {}):
            self.condition(name)
        self.check_rules()
        self.resources = {name: self.value(res) for name, res in self.template.get("Resources", {}).items()
                          if "Condition" not in res or self.condition(res["Condition"])}
        self.outputs = {name: self.value(out) for name, out in self.template.get("Outputs", {}).items()
                        if "Condition" not in out or self.condition(out["Condition"])}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def check_rules(self) -> None:
        """The Rules section: an assertion that does not hold stops the launch, as it would."""
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.value(rule["RuleCondition"]):
                continue
            for assertion in rule["Assertions"]:
                if not self.value(assertion["Assert"]):
                    raise ValueError(f"rule {name}: {assertion.get('AssertDescription', '')}")

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.get("Resources", {}):
            return f"<{name}>"
        raise KeyError(f"!Ref to an unknown name: {name}")

    def sub(self, text: str, variables: dict | None = None) -> str:
        """Fn::Sub: ${Name} and ${Resource.Attribute} replaced; ${!Literal} becomes ${Literal}."""
        variables = {k: self.value(v) for k, v in (variables or {}).items()}

        def replace(match: re.Match) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(variables[inner])
            if "." in inner and not inner.startswith("AWS::"):
                return f"<{inner}>"
            return str(self.ref(inner))

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def value(self, node):
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Sub":
                return self.sub(arg) if isinstance(arg, str) else self.sub(arg[0], arg[1])
            if key == "Fn::Base64":  # kept readable: the tests want the script, not its encoding
                return self.value(arg)
            if key == "Fn::GetAtt":
                return f"<{'.'.join(arg) if isinstance(arg, list) else arg}>"
            if key == "Fn::Join":
                return self.value(arg[0]).join(str(v) for v in self.value(arg[1]))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by these tests")
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}


def check_parameter(name: str, spec: dict, value: str) -> None:
    """What CloudFormation checks before it launches anything: allowed values, pattern, range."""
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        raise ValueError(f"{name}: {value!r} is not one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        raise ValueError(f"{name}: {value!r} does not match {spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]) or "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ValueError(f"{name}: {value} is out of range")


# ------------------------------------------------------------------------------ property checks
# Each returns what is wrong (an empty list when nothing is). The tests run them on the template
# for every access mode, and on mutated copies, where they must find the mutation.

def instances(resolved: Resolved) -> list[tuple[str, dict]]:
    return [(n, r) for n, r in resolved.resources.items() if r["Type"] == "AWS::EC2::Instance"]


def launch_data(resolved: Resolved, instance: dict) -> dict:
    """The LaunchTemplateData of the launch template an instance is launched from."""
    ref = instance.get("Properties", {}).get("LaunchTemplate", {}).get("LaunchTemplateId", "")
    name = ref.strip("<>")
    template = resolved.resources.get(name)
    if template is None or template["Type"] != "AWS::EC2::LaunchTemplate":
        return {}
    return template["Properties"]["LaunchTemplateData"]


def imds_problems(resolved: Resolved) -> list[str]:
    """Every instance: IMDSv2 required (no IMDSv1 answers) and a PUT hop limit of exactly 1."""
    problems = []
    found = instances(resolved)
    if not found:
        problems.append("the template launches no instance")
    for name, instance in found:
        if "MetadataOptions" in instance.get("Properties", {}):
            problems.append(f"{name} sets MetadataOptions itself, beside its launch template's")
        options = launch_data(resolved, instance).get("MetadataOptions")
        if options is None:
            problems.append(f"{name}: no MetadataOptions (the AMI's defaults may allow IMDSv1)")
            continue
        if options.get("HttpTokens") != "required":
            problems.append(f"{name}: HttpTokens is {options.get('HttpTokens')!r}, not 'required' (IMDSv1 answers)")
        hops = options.get("HttpPutResponseHopLimit")
        if str(hops) != "1":
            problems.append(f"{name}: HttpPutResponseHopLimit is {hops!r}, not 1 (containers reach the credentials)")
        if options.get("HttpEndpoint", "enabled") != "enabled":
            problems.append(f"{name}: HttpEndpoint is {options.get('HttpEndpoint')!r}: the SSM agent needs it")
    return problems


def ingress_rules(resolved: Resolved) -> list[dict]:
    """Every inbound rule: those of the security groups and any stand-alone ingress resource."""
    rules = []
    for resource in resolved.resources.values():
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            rules += resource.get("Properties", {}).get("SecurityGroupIngress", [])
        elif resource["Type"] == "AWS::EC2::SecurityGroupIngress":
            rules.append(resource.get("Properties", {}))
    return rules


def ingress_problems(resolved: Resolved, allowed_ports: set[int]) -> list[str]:
    """Inbound rules may only open TCP ports in allowed_ports, each one port wide."""
    problems = []
    for rule in ingress_rules(resolved):
        protocol = str(rule.get("IpProtocol"))
        low, high = rule.get("FromPort"), rule.get("ToPort")
        if protocol not in ("tcp", "6") or low != high or low not in allowed_ports:
            problems.append(f"inbound rule opens {protocol} {low}-{high} from "
                            f"{rule.get('CidrIp') or rule.get('CidrIpv6') or rule.get('SourceSecurityGroupId')}")
    opened = {rule.get("FromPort") for rule in ingress_rules(resolved)}
    for port in allowed_ports - opened:
        problems.append(f"port {port} is not opened")
    return problems


def root_volume_problems(resolved: Resolved) -> list[str]:
    """Every instance's root device (/dev/xvda on both AMIs): encrypted gp3."""
    problems = []
    for name, instance in instances(resolved):
        mappings = launch_data(resolved, instance).get("BlockDeviceMappings", [])
        root = [m for m in mappings if m.get("DeviceName") == "/dev/xvda"]
        if len(root) != 1:
            problems.append(f"{name}: no mapping for the root device /dev/xvda (the AMI's own, unencrypted, applies)")
            continue
        ebs = root[0].get("Ebs", {})
        if ebs.get("Encrypted") is not True and str(ebs.get("Encrypted")).lower() != "true":
            problems.append(f"{name}: the root volume is not encrypted ({ebs.get('Encrypted')!r})")
        if ebs.get("VolumeType") != "gp3":
            problems.append(f"{name}: the root volume is {ebs.get('VolumeType')!r}, not gp3")
    return problems
