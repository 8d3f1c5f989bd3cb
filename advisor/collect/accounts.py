"""Which AWS accounts a collect reads, and the credentials it reads each with.

The current credentials' account comes from sts:GetCallerIdentity. Other accounts are read
through a read-only role in each: `--role-arn` names roles, `--organization` lists the
organization's ACTIVE accounts (organizations:ListAccounts) and assumes `--role-name` in each,
except the caller's own account, which is read with the current credentials. Assumed
credentials refresh themselves (AssumeRole again) before they expire, so a long collect does not
fail half-way. What fails is recorded by the caller: one account's refusal never stops another.

`member_role_cloudformation` and `member_role_terraform` print the member role (trust to the
central account, the collectors' read-only actions) for `advisor collect --print-member-role`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.aws import DEFAULT_ROLE_NAME, IAM_ACTIONS, AwsClients
from advisor.identity import UNKNOWN_ACCOUNT, account_from_arn

ROLE_SESSION_NAME = "glue-advisor"
SESSION_SECONDS = 3600  # every role's maximum session is at least an hour
_PARTITION = re.compile(r"^arn:(aws[a-z-]*):")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")

Record = Callable[[str, str, Exception], None]


@dataclass(frozen=True)
class Caller:
    """Who the current credentials are."""

    account: str  # UNKNOWN_ACCOUNT when GetCallerIdentity failed
    arn: str | None = None

    @property
    def partition(self) -> str:
        match = _PARTITION.match(self.arn or "")
        return match.group(1) if match else "aws"


@dataclass(frozen=True)
class Target:
    """One account to collect, and how: with the current credentials or through a role."""

    account: str
    role_arn: str | None = None  # None: the current credentials

    @property
    def via(self) -> str:
        return self.role_arn or "current credentials"


def is_role_arn(arn: str) -> bool:
    return bool(_ROLE_ARN.match(arn))


def role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def whoami(central: AwsClients, record: Record) -> Caller:
    """The current credentials' account; an error row and `unknown` when STS cannot say."""
    try:
        answer = central.sts.get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        record("sts", f"{UNKNOWN_ACCOUNT}/GetCallerIdentity", exc)
        return Caller(UNKNOWN_ACCOUNT)
    return Caller(answer["Account"], answer.get("Arn"))


def organization_accounts(central: AwsClients) -> list[str]:
    """The organization's ACTIVE account ids (organizations:ListAccounts, every page)."""
    paginator = central.organizations.get_paginator("list_accounts")
    found = []
    for page in paginator.paginate():
        found += [a["Id"] for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE"]
    return sorted(set(found))


def plan(
    central: AwsClients,
    caller: Caller,
    *,
    role_arns: Iterable[str] = (),
    organization: bool = False,
    role_name: str = DEFAULT_ROLE_NAME,
    include_caller: bool = False,
    record: Record,
) -> list[Target]:
    """The accounts to collect, each once: the caller's (when no role is named, with
    --include-caller, or as a member of --organization), each --role-arn's, then the
    organization's other accounts through `role_name`."""
    roles = list(role_arns)
    targets: dict[str, Target] = {}
    if include_caller or not (roles or organization):
        targets[caller.account] = Target(caller.account)
    for arn in roles:
        account = account_from_arn(arn) or UNKNOWN_ACCOUNT
        targets.setdefault(account, Target(account, arn))
    if organization:
        try:
            members = organization_accounts(central)
        except (ClientError, BotoCoreError) as exc:
            record("organizations", f"{caller.account}/ListAccounts", exc)
            members = []
        for account in members:
            if account == caller.account:
                targets.setdefault(account, Target(account))
            else:
                targets.setdefault(
                    account, Target(account, role_arn(account, role_name, caller.partition))
                )
    return list(targets.values())


class AssumedRole:
    """Credentials of one role, assumed through the central STS client and renewed by
    AssumeRole before they expire; `session(region)` gives a boto3 session that uses them."""

    def __init__(self, central: AwsClients, arn: str, external_id: str | None = None):
        self.central, self.arn, self.external_id = central, arn, external_id
        # assumed now, so a refusal is this account's failure, not a later region's
        self.credentials = RefreshableCredentials.create_from_metadata(
            metadata=self._assume(), refresh_using=self._assume, method="sts-assume-role"
        )

    def _assume(self) -> dict[str, str]:
        extra = {"ExternalId": self.external_id} if self.external_id else {}
        answer = self.central.sts.assume_role(
            RoleArn=self.arn,
            RoleSessionName=ROLE_SESSION_NAME,
            DurationSeconds=SESSION_SECONDS,
            **extra,
        )["Credentials"]
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    def session(self, region: str) -> boto3.Session:
        core = botocore.session.get_session()
        core._credentials = self.credentials  # botocore has no public setter for these
        return boto3.Session(botocore_session=core, region_name=region)


# ---- the member role, as CloudFormation and Terraform -------------------------------------


def member_role_cloudformation(role_name: str = DEFAULT_ROLE_NAME) -> str:
    """A CloudFormation template (JSON, which CloudFormation reads as YAML too) for the role a
    member account gives the central account: assumable from it, allowed only the reads."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "glue-advisor: read-only role the central account assumes to collect "
        "AWS Glue jobs, runs, CloudWatch metrics and Spark event logs",
        "Parameters": {
            "CentralAccountId": {
                "Type": "String",
                "AllowedPattern": "^\\d{12}$",
                "Description": "Account where `advisor collect` runs",
            },
            "CentralPrincipalArn": {
                "Type": "String",
                "Default": "",
                "Description": "Role or user there that runs it (empty: any the account allows)",
            },
            "ExternalId": {
                "Type": "String",
                "Default": "",
                "Description": "Value `advisor collect --external-id` passes (empty: none)",
            },
            "RoleName": {"Type": "String", "Default": role_name},
        },
        "Conditions": {
            "AnyPrincipal": {"Fn::Equals": [{"Ref": "CentralPrincipalArn"}, ""]},
            "NoExternalId": {"Fn::Equals": [{"Ref": "ExternalId"}, ""]},
        },
        "Resources": {
            "GlueAdvisorRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "MaxSessionDuration": SESSION_SECONDS,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {
                                        "Fn::If": [
                                            "AnyPrincipal",
                                            {
                                                "Fn::Sub": "arn:${AWS::Partition}:iam::"
                                                "${CentralAccountId}:root"
                                            },
                                            {"Ref": "CentralPrincipalArn"},
                                        ]
                                    }
                                },
                                "Action": "sts:AssumeRole",
                                "Condition": {
                                    "Fn::If": [
                                        "NoExternalId",
                                        {"Ref": "AWS::NoValue"},
                                        {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                                    ]
                                },
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "GlueAdvisorReadOnly",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": "GlueAdvisorReadOnly",
                                        "Effect": "Allow",
                                        "Action": list(IAM_ACTIONS),
                                        "Resource": "*",
                                    }
                                ],
                            },
                        }
                    ],
                },
            }
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["GlueAdvisorRole", "Arn"]}}},
    }
    return json.dumps(template, indent=2)


_TERRAFORM = """\
# glue-advisor: the read-only role the central account assumes; apply in each member account
variable "central_account_id" {
  type        = string
  description = "Account where `advisor collect` runs"
}

variable "central_principal_arn" {
  type        = string
  default     = ""
  description = "Role or user there that runs it (empty: any the account allows)"
}

variable "external_id" {
  type        = string
  default     = ""
  description = "Value `advisor collect --external-id` passes (empty: none)"
}

data "aws_partition" "current" {}

locals {
  central_root = "arn:${data.aws_partition.current.partition}:iam::${var.central_account_id}:root"
  principal    = var.central_principal_arn != "" ? var.central_principal_arn : local.central_root
}

data "aws_iam_policy_document" "glue_advisor_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [local.principal]
    }
    dynamic "condition" {
      for_each = var.external_id == "" ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

data "aws_iam_policy_document" "glue_advisor_read_only" {
  statement {
    sid = "GlueAdvisorReadOnly"
    actions = [
ACTIONS
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role" "glue_advisor" {
  name                 = "ROLE_NAME"
  max_session_duration = SESSION_SECONDS
  assume_role_policy   = data.aws_iam_policy_document.glue_advisor_trust.json
}

resource "aws_iam_role_policy" "glue_advisor_read_only" {
  name   = "GlueAdvisorReadOnly"
  role   = aws_iam_role.glue_advisor.id
  policy = data.aws_iam_policy_document.glue_advisor_read_only.json
}

output "glue_advisor_role_arn" {
  value = aws_iam_role.glue_advisor.arn
}
"""


def member_role_terraform(role_name: str = DEFAULT_ROLE_NAME) -> str:
    """The same role as Terraform (AWS provider), applied in each member account."""
    return (
        _TERRAFORM.replace("ACTIONS", ",\n".join(f'      "{a}"' for a in IAM_ACTIONS))
        .replace("ROLE_NAME", role_name)
        .replace("SESSION_SECONDS", str(SESSION_SECONDS))
    )
