#!/usr/bin/env python3
"""ordinary.py — what roles refuse of ordinary agent command lines.

tests/roles/ordinary.jsonl holds 875 Bash lines of the kinds Claude Code runs (git, builds,
tests, files, pipes, loops, here-documents, tests with [ ]), each with the programs it runs.
roles_verdicts --programs checks each under two roles: one whose allow list is Bash(P *) for
each of its programs (ALLOW), and one that denies Bash(git push*) and Bash(rm *) (DENY).

A line is expected to pass both unless the file says "refused" for that role ("allow_list",
"deny_list"): the lines that really run git push or rm, and those the docs say no pattern can
follow (extended globs, export PATH=… to an allow list, $((x)) and the like). Any change fails:
a new refusal is an ordinary line a user loses (a deny list refused every [ -f "$f" ] for a
session unnoticed), and a refusal gone may be a bypass opened; either way the file is updated
in the same commit as the change that made it, with the reason in the message.

    ordinary.py ROLES_VERDICTS [JSONL]
"""
import json
import os
import subprocess
import sys


def main():
    verdicts = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "ordinary.jsonl")
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    data = b"".join(
        (" ".join(r["programs"]) + "\t" + r["command"]).encode() + b"\0" for r in records)
    out = subprocess.run([verdicts, "--programs"], input=data, capture_output=True,
                         check=True).stdout.decode().split("\n")
    if len(out) < len(records):
        sys.exit(f"ordinary: {verdicts} answered {len(out)} of {len(records)} lines")
    changed = 0
    refused = {"allow_list": 0, "deny_list": 0}
    for r, line in zip(records, out):
        got = dict(zip(("allow_list", "deny_list"), line.split()))
        for role in ("allow_list", "deny_list"):
            want = "0" if r.get(role) == "refused" else "1"
            refused[role] += got[role] == "0"
            if got[role] != want:
                changed += 1
                print(f"CHANGED {role}: {'refused' if want == '1' else 'now passes'}: "
                      f"{r['command']!r} (programs {' '.join(r['programs'])})")
    print(f"ordinary: {len(records)} lines; the allow list refuses {refused['allow_list']}, "
          f"the deny list {refused['deny_list']}; {changed} changed from {os.path.basename(path)}")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
