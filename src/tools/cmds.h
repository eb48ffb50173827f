/* vsvm sub-commands. Each takes the arguments after its name (argv[0] is
 * the sub-command name) and returns the process exit status: 0 success,
 * 1 the operation failed, 2 usage error (message printed to stderr). */
#ifndef VSVM_TOOLS_CMDS_H
#define VSVM_TOOLS_CMDS_H

int cmd_run(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_qtest(int argc, char **argv);
int cmd_scenario(int argc, char **argv);

#endif
