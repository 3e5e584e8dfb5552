// CrossGuard policy pack: `pulumi preview --policy-pack policy` (see docs/pulumi.md).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules.js";

new PolicyPack("pgkit-guardrails", { policies });
