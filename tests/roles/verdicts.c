/* verdicts.c — for tests/roles/bash_diff.py: reads Bash command lines, NUL-terminated, on stdin,
 * and prints for each "ALLOW DENY REREAD" (1 allowed, 0 denied): ALLOW under a role whose allow
 * list is Bash(git *), DENY under one that denies Bash(git push*) and Bash(rm *), REREAD under
 * one that allows Bash(git *) and what reads a text again: eval, trap, compgen, bash, sh, set,
 * shopt.
 *
 * With --programs (for tests/roles/ordinary.py) each record is "PROGRAM PROGRAM …<TAB>LINE",
 * and it prints "ALLOW DENY": ALLOW under a role that allows Bash(PROGRAM *) for each program
 * named, DENY as above. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentbudget.h"

static int allowed(ab_role *r, const char *cmd)
{
    size_t n = strlen(cmd);
    char *tool = malloc(n + sizeof "Bash()"), reason[256];
    if (!tool)
        exit(3);
    snprintf(tool, n + sizeof "Bash()", "Bash(%s)", cmd);
    int ok = ab_role_allows(r, tool, NULL, reason, sizeof reason);
    free(tool);
    return ok;
}

/* Under a role that allows Bash(PROGRAM *) for each of the programs, blank-separated. */
static int programs_verdict(char *programs, const char *cmd)
{
    static char patterns[AB_GLOBS_MAX][64];
    ab_role r;
    memset(&r, 0, sizeof r);
    strcpy(r.name, "t");
    for (char *p = strtok(programs, " "); p && r.allow_tools_count < AB_GLOBS_MAX;
         p = strtok(NULL, " ")) {
        snprintf(patterns[r.allow_tools_count], sizeof patterns[0], "Bash(%s *)", p);
        r.allow_tools[r.allow_tools_count] = patterns[r.allow_tools_count];
        r.allow_tools_count++;
    }
    return allowed(&r, cmd);
}

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
    return allowed(&r, cmd);
}

int main(int argc, char **argv)
{
    int programs = argc > 1 && !strcmp(argv[1], "--programs");
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
        char *tab = programs ? strchr(line, '\t') : NULL;
        if (programs && !tab)
            exit(2);
        if (tab) {
            *tab = '\0';
            int allow = programs_verdict(line, tab + 1);
            printf("%d %d\n", allow, verdict(0, tab + 1));
        } else {
            printf("%d %d %d\n", verdict(1, line), verdict(0, line), verdict(2, line));
        }
    }
    return fflush(stdout) ? 3 : 0;
}
