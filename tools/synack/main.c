/*
 * synack: the command-line front end. `synack <command> [options]`.
 * A command is one entry in the table below; each lives in its cmd_NAME.c.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const struct cli_command *const commands[] = {
	&cli_cmd_demo,
	&cli_cmd_up,
	&cli_cmd_get,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_main_usage(FILE *f)
{
	fprintf(f, "usage: synack <command> [options]\n"
		   "       synack help [command]\n\n"
		   "A userspace TCP/IPv4 stack built the way Linux builds its TCP.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'synack <command> --help' for a command's options.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int run_help(int argc, char **argv)
{
	if (argc < 3) {
		print_main_usage(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_command *cmd = find_command(argv[2]);
	if (!cmd) {
		fprintf(stderr, "synack: unknown command '%s'\n", argv[2]);
		print_main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cli_print_usage(cmd, stdout);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "synack: no command given\n");
		print_main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0)
		return run_help(argc, argv);
	const struct cli_command *cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "synack: unknown command '%s'\n", argv[1]);
		print_main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(cmd, argc - 1, argv + 1);
}
