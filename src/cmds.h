/* Entry points of the `sluice` subcommands; each returns the process exit code and owns
 * nothing it was given (argv belongs to main). argv[0] is the subcommand name. */
#ifndef SL_CMDS_H
#define SL_CMDS_H

int cmd_segment_main(int argc, char **argv);
int cmd_kafka_mock_main(int argc, char **argv);
int cmd_loadgen_main(int argc, char **argv);
int cmd_sidecar_main(int argc, char **argv);
int cmd_controller_main(int argc, char **argv);
int cmd_table_main(int argc, char **argv);
int cmd_zk_main(int argc, char **argv);

#endif
