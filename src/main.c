/* `sluice`: one binary, one subcommand per role or tool (DESIGN §3). */
#include "src/cmds.h"

#include <stdio.h>
#include <string.h>

typedef struct sluice_cmd {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} sluice_cmd;

static const sluice_cmd cmds[] = {
    {"controller", cmd_controller_main,
     "run a controller (completion coordinator, segment store, admin API)"},
    {"sidecar", cmd_sidecar_main, "run an ingestion sidecar (standalone mode: no controller)"},
    {"segment", cmd_segment_main, "build, inspect, dump and verify segment files"},
    {"kafka-mock", cmd_kafka_mock_main, "embedded Kafka-protocol cluster on 127.0.0.1 (dev/test)"},
    {"loadgen", cmd_loadgen_main, "produce deterministic synthetic events to Kafka"},
    {"table", cmd_table_main, "create tables and list their segments (talks to a controller)"},
    {"zk", cmd_zk_main, "print the cluster's ZooKeeper state as JSON"},
    {"push", cmd_push_main, "push built segments to a table (POST /v2/segments)"},
    {"replay", cmd_replay_main,
     "rebuild segments from a Kafka offset range; verify committed ones"},
    {"audit", cmd_audit_main,
     "check the invariants (chain, exactly once, replicas, ...) of a cluster"},
    {"chaos", cmd_chaos_main, "run a local cluster under faults and audit it (list, run)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(out, "\nEvery command has --help.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].main(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
