# An Ansible module for ipsecctl: puts an ipsec.conf (OpenBSD's language)
# in place on a gateway, or takes it out again, through ipsecctl itself.
# It holds no logic of its own about IPsec: what would change comes from
# `ipsecctl --diff`, what did change from `ipsecctl -f -j`, so that check
# mode, diff mode and `changed` say exactly what ipsecctl says.
# Python standard library only, besides Ansible's module helper.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipsecctl
short_description: Load an ipsec.conf (OpenBSD's language) with ipsecctl
description:
  - Loads the flows, manual SAs and C(ike) rules of an ipsec.conf into the
    Linux kernel and the IKE daemon (strongSwan's charon over VICI, or
    isakmpd) with C(ipsecctl -f), or removes them with C(ipsecctl -d -f).
  - A load is all or nothing, and a reload is a sync; what left the file
    leaves the kernel and the daemon, nothing else is touched.
  - C(changed) is true exactly when ipsecctl changed (or, in check mode,
    would change) something in the kernel or the daemon.
  - Check mode runs C(ipsecctl --diff) and changes nothing; diff mode shows
    its lines (flows and SAs as C(ipsecctl -s) prints them, IKE
    connections and secrets by name, never a secret's value).
  - A file with an error fails the task with ipsecctl's message, which
    names the file, the line and the offending word.
options:
  src:
    description: The ipsec.conf on the managed host (mode 0600, as ipsecctl requires).
    type: path
    required: true
  staged_src:
    description:
      - In check mode, the copy to compare in place of I(src), as if it were I(src)
        (C(ipsecctl --diff --as SRC -f STAGED)): a role renders the new file there, since
        check mode leaves I(src) as it is.
    type: path
  language:
    description:
      - C(ipsec.conf) (OpenBSD's ipsec.conf(5)) or C(iked.conf) (OpenBSD's iked.conf(5), IKEv2
        policies for charon: C(ipsecctl --iked)).
    type: str
    choices: [ipsec.conf, iked.conf]
    default: ipsec.conf
  state:
    description: C(present) loads the file, C(absent) removes what it loads.
    type: str
    choices: [present, absent]
    default: present
  kernel:
    description: The kernel interface (C(--kernel)).
    type: str
    choices: [xfrm, pfkey]
    default: xfrm
  ike:
    description: The IKE daemon for ike rules (C(--ike)).
    type: str
    choices: [auto, vici, isakmpd]
    default: auto
  vici:
    description: charon's VICI socket (C(--vici)); ipsecctl's default when not given.
    type: path
  fifo:
    description: isakmpd's command fifo (C(-i)); ipsecctl's default when not given.
    type: path
  wait:
    description: Seconds to wait for the active and dynamic tunnels to come up (C(--wait)); the task fails naming each one that is not.
    type: int
  netns:
    description: Run ipsecctl in this network namespace (C(ip netns exec)), for gateways that live in namespaces.
    type: str
  executable:
    description: The ipsecctl binary.
    type: path
    default: ipsecctl
author:
  - ipsecctl developers
"""

EXAMPLES = r"""
- name: IPsec policy of this gateway
  ipsecctl:
    src: /etc/ipsecctl/ipsec.conf

- name: Take this gateway's tunnels down
  ipsecctl:
    src: /etc/ipsecctl/ipsec.conf
    state: absent
"""

RETURN = r"""
counts:
  description: Per backend and kind, how many entries were (or would be) added, changed, removed and left unchanged.
  returned: when ipsecctl ran
  type: dict
  sample: {"XFRM": {"flows": {"added": 2, "changed": 0, "removed": 0, "unchanged": 4}}}
changes:
  description: The lines of C(ipsecctl --diff) (check mode or diff mode).
  returned: in check mode or diff mode
  type: list
  elements: str
rc:
  description: ipsecctl's exit status (of the load).
  returned: when not in check mode
  type: int
"""

import json

from ansible.module_utils.basic import AnsibleModule


def command(module, *args):
    p = module.params
    argv = []
    if p["netns"]:
        argv += ["ip", "netns", "exec", p["netns"]]
    argv += [p["executable"], "--kernel", p["kernel"], "--ike", p["ike"]]
    if p["language"] == "iked.conf":
        argv += ["--iked"]
    if p["vici"]:
        argv += ["--vici", p["vici"]]
    if p["fifo"]:
        argv += ["-i", p["fifo"]]
    argv += list(args)
    return argv


def run(module, *args):
    # --diagnostics=plain: the error text stays OpenBSD's, one line each.
    rc, out, err = module.run_command(command(module, "--diagnostics=plain", *args))
    return rc, out, err


def counts_of(document):
    return {b["backend"]: b["counts"] for b in document.get("backends", [])}


def failure(module, what, rc, err, **extra):
    lines = [line for line in err.splitlines() if line.strip()]
    module.fail_json(msg="; ".join(lines) or "%s failed (exit %d)" % (what, rc), rc=rc,
                     stderr=err, stderr_lines=lines, **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            staged_src=dict(type="path"),
            language=dict(type="str", default="ipsec.conf", choices=["ipsec.conf", "iked.conf"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            kernel=dict(type="str", default="xfrm", choices=["xfrm", "pfkey"]),
            ike=dict(type="str", default="auto", choices=["auto", "vici", "isakmpd"]),
            vici=dict(type="path"),
            fifo=dict(type="path"),
            wait=dict(type="int"),
            netns=dict(type="str"),
            executable=dict(type="path", default="ipsecctl"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    removing = ["-d"] if p["state"] == "absent" else []
    result = dict(changed=False)

    # What a load would do: the same comparison as the load, nothing sent.
    # Exit 0: nothing to do, 2: something, 1: an error (the file's, named).
    if module.check_mode or module._diff:
        # Check mode left src as it was: the new file is the staged copy.
        compared = ["-f", p["src"]]
        if module.check_mode and p["staged_src"] and not removing:
            compared = ["--as", p["src"], "-f", p["staged_src"]]
        # One run answers both: the counts and, as "text", the lines the
        # text form prints.
        rc, out, err = run(module, "--diff", "-j", *removing, *compared)
        if rc not in (0, 2):
            failure(module, "ipsecctl --diff", rc, err)
        document = json.loads(out)
        text = document.get("text", "")
        result["changes"] = [line for line in text.splitlines() if not line.startswith("#")]
        if module._diff:
            result["diff"] = dict(prepared=text)
        if module.check_mode:
            result["counts"] = counts_of(document)
            # Not as rc: Ansible takes a nonzero rc for a failed task.
            result.update(changed=rc == 2)
            module.exit_json(**result)

    args = ["-j", *removing, "-f", p["src"]]
    if p["wait"] and not removing:
        args = ["--wait=%d" % p["wait"]] + args
    rc, out, err = run(module, *args)
    try:
        document = json.loads(out) if out.strip() else {}
    except ValueError:
        document = {}
    if document:
        result["counts"] = counts_of(document)
    if rc != 0:
        # A failed load changed nothing (all or nothing), unless --wait
        # found a tunnel down after a load that took.
        failure(module, "ipsecctl -f", rc, err, changed=bool(document.get("changed")),
                counts=result.get("counts", {}))
    result.update(changed=bool(document.get("changed")), rc=rc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
