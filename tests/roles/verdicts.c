/* verdicts.c — for tests/roles/bash_diff.py: reads Bash command lines, NUL-terminated, on stdin,
 * and prints for each "ALLOW DENY REREAD" (1 allowed, 0 denied): ALLOW under a role whose allow
 * list is Bash(git *), DENY under one that denies Bash(git push*) and Bash(rm *), REREAD under
 * one that allows Bash(git *) and what reads a text again: eval, trap, compgen, bash, sh, set,
 * shopt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentbudget.h"

static int verdict(int allow_list, const char *cmd)
{
    static char *allow[] = {"Bash(git *)",  "Bash(eval *)", "Bash(trap *)", "Bash(compgen *)",
                            "Bash(bash *)", "Bash(sh *)",   "Bash(set *)",  "Bash(shopt *)"},
                *deny[] = {"Bash(git push*)", "Bash(rm *)"};
    ab_role r;
    memset(&r, 0, sizeof r);
    strcpy(r.name, "t");
    if (allow_list) { /* 1: Bash(git *); 2: and the rereads */
        size_t n = allow_list == 1 ? 1 : sizeof allow / sizeof allow[0];
        for (size_t i = 0; i < n; i++)
            r.allow_tools[i] = allow[i];
        r.allow_tools_count = n;
    } else {
        r.deny_tools[0] = deny[0];
        r.deny_tools[1] = deny[1];
        r.deny_tools_count = 2;
    }
    size_t n = strlen(cmd);
    char *tool = malloc(n + sizeof "Bash()"), reason[256];
    if (!tool)
        exit(3);
    snprintf(tool, n + sizeof "Bash()", "Bash(%s)", cmd);
    int ok = ab_role_allows(&r, tool, NULL, reason, sizeof reason);
    free(tool);
    return ok;
}

int main(void)
{
    static char line[1 << 16];
    size_t n = 0;
    for (int ch; (ch = getchar()) != EOF;) {
        if (ch) {
            if (n < sizeof line - 1)
                line[n++] = (char)ch;
            continue;
        }
        line[n] = '\0';
        n = 0;
        printf("%d %d %d\n", verdict(1, line), verdict(0, line), verdict(2, line));
    }
    return fflush(stdout) ? 3 : 0;
}
