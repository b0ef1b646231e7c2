#!/usr/bin/env python3
"""bash_diff.py VERDICTS [SEED LINES]... — the Bash scanner of role patterns against Bash itself.

Builds random command lines from fragments of shell syntax (quotes, substitutions, here-documents,
arithmetic, leaders, comments), each with an `rm -rf x` or a `git push` put somewhere in it, and
asks VERDICTS (tests/roles/verdicts.c) what a role with the allow list Bash(git *) says of each,
and one that allows eval, trap, compgen, bash, sh, set and shopt besides (their texts read again).
Every line that list allows is then run by bash, with extglob off and on (as a user's shell may
have it), in a scratch directory, with a PATH that holds only stand-in `git` and `rm` scripts,
which print what they were run with: a line the allow list allows must run nothing but git. A
line that runs something else is an allow-list bypass, and fails the test. (Deny lists are a
best effort, docs/concepts.md: their misses are counted and printed, not failed.) The seeds are fixed: the same lines every run."""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

FRAGMENTS = [
    "git status", "git log", "rm -rf x", "git push", "; ", "\n", " && ", " || ", " | ", " & ",
    "'", '"', "$'", '$"', "`", "\\`", "$(", ")", "$((", "((", "))", "(", "${x:-", "}", "{ ", "; }",
    "[[ -n x ]]", "<<E", "<<-E", "<<'E'", '<<"E"', "<<\\E", "<<<", "E", "\nE\n", "\tE", "\\",
    " \\\n", "#", " #", "\t", "\r", "case x in ", "x) ", ";; ", "esac", "function f ", "f() ",
    "coproc ", "time ", "time -p ", "! ", "exec ", "env -u A ", "env -S ", "command ", "then ",
    "do ", "for i in 1; do ", "done", "if true; then ", "fi", "$$", "$#", "${#x}", "${x#'}'}",
    "${x/'a'/b}", " x ", "a=b ", ">x ", "2>&1 ", "<(", ">(", "\\'", '\\"', "$[", "]", " =~ ", "*",
    "$'\\''", "${x:-$'", "$@ ", "$! ", "{,", ",}", "{", ",", "env -iu A ", "nice --adj 5 ", "$'\\x67it' ", "\"pu\\\nsh\" ",
]
# more, from a hunt for bypasses: parameter expansions, $'…' escapes, backslash-newlines in
# every context, case, arrays, here-documents, bash's command table
EXTRA = [
    "${x#", "${x##*", "${x%", "${x/", "/", "${x//", "${!x}", "${!x", "${x@Q}", "${x@P}", "${x@E}", "${x:=", "${x=", "${x+",
    "${x:+", "${x:?", "${#", "${a[", "${x:1:", "$x", "$'\\0'", "$'\\c'", "$'\\x27'", "$'\\u0027'", "$'\\''", "\\$", "\\\n",
    "\"\\\n\"", "'\\\n'", "$'\\\n'", "}", "{", "{}", "{ git log; }", "case $x in ", "(x) ", "*) ", ";&", ";;&", "[[ ", " ]]",
    "((x))", "$[x]", "$((x))", "<<-E\n\tE\n", "<<<'", "<<<\"", "coproc git ", "coproc c { ", "function git { ",
    "git() ", "git() { ", "\r", "time -p ", "! ", "a=(", "a=( ", "declare ", "eval ", "alias ", "\\git ", "'git' ",
    "x='a[$(rm -rf x)]' ", "$(\\\n", "`\\\n", "#)", "# ", "x#", "$#)", "&>", ">&", "|&", "&", ";", "\"$(", "\"`", "'\"'", "\"'\"",
    "$(<", "$( (", "$((", ")) ", ") )", "<(git log)", "${x:-\"", "${x:-'", "${x:-`", "${x:-$(", "\"${x:-'", "'}\"", "}\"",
    "${x:-\\}", "${x:-\\'", "<<E ", "<<E;", "<<\"E\"x ", "<<E$x ", "<<E\\\n", "\nE", "E\n", "$\"", "${x//'/'/", "\"${x/'a'/'b'}\"",
    "${x:='a[$(rm -rf x)]'}", "$((", "'$(rm -rf x)'", "git log ", "git ", " git", "then git ", "do git ",
]
FRAGMENTS += EXTRA
FRAGMENTS += ["$\\\n(", "<\\\n<", "$\\\n'", "${x-<(", "${x->(", "${BASH_CMDS[git]=/tmp/bin/rm}", "$\\\n{", "\\\n(",
              "'\\\n", "$'\\'", "\"$(\\\n", "<<E\\\n", "E\\\n", "\\\nE", "<\\\n(", "(\\\n(", ")\\\n)", "&\\\n&",
              "|\\\n|", ";\\\n;", "$\\\n[", "\"$\\\n(", "<<-\\\nE", "${x-`", "${x-\"'\"", "\"${x-\"'\"}\"",
              "$(case x in x) ", "\"$(case x in x) ", "(x) ", "x|y) ", "esac)", ";;esac)", ";& ",
              "{a[_]}>/dev/null ", "{a[$(git log)_]}>x ", "{x}>&- ", "'b[$(rm -rf x)]' ",
              "$(( `))`", "$(( ${?#$'\\''}1 ", "\\\\\\'", "$[ `]`", " )) ",
              "${x[`#]\n", "`_]}", "${PWD:${@+\\}}_}", "${x[${@+]}_]}", "$(( $(#)))\n", ")git +_ ))",
              "\"${x:-$'$(rm -rf x)'}\"", "${x:-$'\\x24(rm -rf x)'}",
              "@(#x) ", "@(", "!(", "*(", "+(x|", "?(", "$*(", "[[ x == @(", "@(x<<E) ",
              "<<-\"\tE\" ", "\n\tE\n", "\n \\\nE\n", "<<'F' ", "\nF\n", "\n \\\nF\n",
              "$(coproc case x in x) ", "$(if time case x in x) ", "function f { ",
              "${x[$(: ])0]=", "${x[`: ]`0]:=", "a[\\$(rm -rf x)]}$[x] ",
              "trap ", "builtin eval ", "command trap -- ", " EXIT", "compgen -W ", "compgen -C ",
              "eval '", "trap \"", "'rm -rf x' EXIT ", "hash -p rm git; ", "hash -r; ",
              "shopt -s expand_aliases\n", "alias git='echo $('\n", "alias x=y; ",
              "history -s 'rm -rf x'; ", "fc -s ", "fc -l ", "git=rm ",
              "set -k; ", "PATH=/ ", "for x in ';rm -rf y'; do eval git log $x; done ",
              "bash -c ", "sh -ec '", "bash -o errexit -c \"",
              "trap >/dev/null ", "bash </dev/null -c ", "bash -c - ", "bash <<<'", "| bash -s ",
              "set -o history -H\n", "git log !!:2:gs/\"// ", "bash -kc '", "~+ ", "a=~+ "]
CULPRITS = ["\nrm -rf x ", "; rm -rf x ", "\ngit push ", "; git push "]


def line(rng):
    parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(2, 14))]
    parts.insert(rng.randint(0, len(parts)), rng.choice(CULPRITS))
    # a git command in front, most of the time: more lines for the allow list to let through
    pre = rng.choice(["", "git log ", "git log ", "git ", "git log \"", "git log $(git "])
    return pre + "".join(parts)


# lines of what reads a text again (eval, trap, compgen, a shell's -c and standard input, set's
# and shopt's options), for the allow list that names them too: quoting, redirections, options
REREAD_LEADERS = ["eval ", "eval -- ", "command eval ", "builtin eval ", "trap ", "trap -- ",
                  "bash -c ", "sh -c ", "bash -ec ", "bash -c -- ", "bash -c - ", "sh -cs ",
                  "bash -s ", "bash ", "compgen -W ", "compgen -C ", "set ", "shopt -so ",
                  "bash -o ", "eval eval ", "trap -p ", "bash -H -c "]
REREAD_WORDS = ["'git log'", "'rm -rf x'", '"git log"', "$'git log'", "'git log; rm -rf x'",
                "'git log\nrm -rf x'", '"git log\nrm -rf x"', "'git log <<-E\n\tE\nrm -rf x'",
                "\\;", "git", "log", "'$(rm -rf x)'", "EXIT", "0", "99", "-", "--", "-l", "-p",
                "~+", ">/dev/null", "2>&1", "</dev/null", "<<<'rm -rf x'", "< <(echo rm -rf x)",
                "-k", "-H", "-o", "keyword", "histexpand", "history", "-s", "-c", "-e", "x",
                "'PATH=/'", "PATH=/", "'git log \"'", "\"'\"", "$'\\''", "'#'", "'\n'"]


def reread_line(rng):
    cmds = [rng.choice(REREAD_LEADERS) + " ".join(rng.choice(REREAD_WORDS)
                                                  for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:
        cmds.append('git log "x;rm -rf y"\ngit log !!:2:gs/"//')
    if rng.random() < 0.3:
        cmds.append("git log PATH=/")
    return rng.choice(["; ", "\n", " && "]).join(cmds)


def main():
    verdicts = sys.argv[1]
    runs = [(int(sys.argv[i]), int(sys.argv[i + 1])) for i in range(2, len(sys.argv), 2)]
    runs = runs or [(1, 3000), (2, 3000), (3, 3000)]
    scratch = tempfile.mkdtemp(prefix="ab-bash-diff-")
    try:
        bin_dir = os.path.join(scratch, "bin")
        os.mkdir(bin_dir)
        # the shells that bash -c and sh -c name, for the lines the rereads' list allows
        for name in ("bash", "sh"):
            os.symlink("/bin/" + name, os.path.join(bin_dir, name))
        for name in ("git", "rm"):
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write('#!/bin/sh\necho "RAN %s $*" >&2\n' % name)
            os.chmod(path, 0o755)
        bypasses = deny_misses = ran_bash = skipped = 0
        for seed, count in runs:
            rng = random.Random(seed)
            lines = [line(rng) for _ in range(count)]
            rng = random.Random(seed + 1000)  # and a quarter as many of what reads again
            lines += [reread_line(rng) for _ in range(count // 4)]
            out = subprocess.run([verdicts], input=b"".join(l.encode() + b"\0" for l in lines),
                                 capture_output=True, check=True).stdout.decode().split("\n")
            for text, verdict in zip(lines, out):
                allowed, not_denied, rereads = (v == "1" for v in verdict.split())
                if not allowed and not not_denied and not rereads:
                    continue
                # bash runs as the test's user (root in CI): a line with a redirection whose
                # target may be an absolute path but /dev/null (the fragments "&>", "/" and
                # "git log " make &>/git) is not run: nothing here may write outside the
                # scratch directory
                if re.search(r"[<>][&|>]?[\s\"'\\]*/(?!dev/null[\s;&|)]|dev/null$)", text):
                    skipped += 1
                    continue
                # with extglob off, and on, as a user's shell may have it (Claude Code's
                # snapshot of it): @(…) is then a word, and !( no subshell
                ran = []
                for opts in ([], ["-O", "extglob"]):
                    work = tempfile.mkdtemp(dir=scratch)
                    try:
                        err = subprocess.run(["/bin/bash", *opts, "-c", text], cwd=work,
                                             timeout=5, env={"PATH": bin_dir, "HOME": work},
                                             stdin=subprocess.DEVNULL,
                                             capture_output=True).stderr
                    except subprocess.TimeoutExpired:
                        err = b""
                    shutil.rmtree(work, ignore_errors=True)
                    ran_bash += 1
                    ran += [l for l in err.decode(errors="replace").split("\n")
                            if l.startswith("RAN ")]
                if (allowed or rereads) and any(not l.startswith("RAN git ") for l in ran):
                    bypasses += 1
                    print("BYPASS of Bash(git *)%s: %r ran %r"
                          % ("" if allowed else " and the rereads", text, ran))
                if not_denied and any(l.startswith(("RAN rm", "RAN git push")) for l in ran):
                    deny_misses += 1
        total = sum(c + c // 4 for _, c in runs)
        print("bash_diff: %d lines, %d runs of bash, %d allow-list bypasses, %d deny-list misses "
              "(a best effort), %d not run (a redirection to an absolute path)"
              % (total, ran_bash, bypasses, deny_misses, skipped))
        return 1 if bypasses else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
