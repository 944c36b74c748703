/*
 * tools/dongctl.c — the DongLpt client: command line, choice of port, and the
 * start/stop of its home (home.h). The same source builds dongctl.exe for Windows
 * and tools/dongctl for Linux, where it boots the simulated machine itself.
 */
#include <stdlib.h>
#include <string.h>

#include "dongctl.h"
#include "home.h"
#include "version.h"

typedef struct options {
    dong_args args;
    const char *command;
    const char *trace;
    const char *machine;
    const char *reg;
    bool help;
    bool version;
} options;

/* usage — the synopsis of every subcommand and the global options. */
static void usage(FILE *f)
{
    fprintf(f, "usage: dongctl [--port N] [--json] [--trace FILE] [--machine FILE] [--reg FILE] COMMAND [ARGS]\n"
               "       dongctl --help | --version\n\n"
               "commands:\n");
    for (const dong_command *c = g_commands; c->name; c++)
        fprintf(f, "  %-27s %s\n", c->synopsis, c->summary);
    fprintf(f, "\noptions:\n"
               "  --port N        use LPTN (1-based); default: the first port with a key\n"
               "  --json          machine-readable output on stdout\n"
               "  --trace FILE    record the port's lines to a VCD file (simulated machine only)\n"
               "  --machine FILE  machine description (simulated machine only; default machines/default.ini)\n"
               "  --reg FILE      a .reg file imported after donglpt.reg, e.g. other Parameters\n"
               "                  (simulated machine only)\n"
               "\nexit codes: 0 ok, 1 usage, 2 no key or no such port, 3 key refused or not authentic,\n"
               "            4 link or I/O error, 5 set-up (driver not running, files),\n"
               "            6 outcome unknown (a change to the key may or may not have been made)\n");
}

/* usage_error — what was wrong, then the usage, on stderr; exit code 1. */
static int DONG_PRINTF(1, 2) usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "dongctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n");
    usage(stderr);
    return DONG_EXIT_USAGE;
}

/*
 * option_value — the value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when
 * argv[*i] is another option. *missing is set when the value is absent.
 */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/*
 * parse_options — global and subcommand options may appear anywhere; everything else
 * is positional: the subcommand, then its arguments, kept in order.
 */
static int parse_options(int argc, char **argv, options *o)
{
    static char *positional[64];
    int npos = 0;
    bool only_positional = false;

    memset(o, 0, sizeof *o);
    o->args.echo_size = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        unsigned long num;

        if (only_positional || a[0] != '-' || a[1] == 0) {
            if (npos == (int)(sizeof positional / sizeof positional[0]))
                return usage_error("too many arguments");
            positional[npos++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
        } else if (strcmp(a, "--version") == 0) {
            o->version = true;
        } else if (strcmp(a, "--json") == 0) {
            g_json = true;
        } else if ((v = option_value(argc, argv, &i, "--port", &missing))) {
            if (!parse_uint(v, DONG_MAX_PORTS, &num) || num == 0)
                return usage_error("--port wants a port number 1..32, not '%s'", v);
            o->args.port = (unsigned)num;
        } else if ((v = option_value(argc, argv, &i, "--trace", &missing))) {
            o->trace = v;
        } else if ((v = option_value(argc, argv, &i, "--machine", &missing))) {
            o->machine = v;
        } else if ((v = option_value(argc, argv, &i, "--reg", &missing))) {
            o->reg = v;
        } else if ((v = option_value(argc, argv, &i, "--key", &missing))) {
            o->args.key_file = v;
        } else if ((v = option_value(argc, argv, &i, "--out", &missing))) {
            o->args.out_file = v;
        } else if ((v = option_value(argc, argv, &i, "--file", &missing))) {
            o->args.in_file = v;
        } else if ((v = option_value(argc, argv, &i, "--size", &missing))) {
            if (!parse_uint(v, DL1_MAX_PAYLOAD, &num))
                return usage_error("--size wants 0..512 bytes, not '%s'", v);
            o->args.echo_size = (long)num;
        } else if (missing) {
            return usage_error("%s needs a value", a);
        } else {
            return usage_error("unknown option '%s'", a);
        }
        if (missing)
            return usage_error("%s needs a value", a);
    }
    if (npos > 0) {
        o->command = positional[0];
        o->args.argc = npos - 1;
        o->args.argv = positional + 1;
    }
    return DONG_EXIT_OK;
}

/* check_command_options — options that belong to one subcommand only. */
static int check_command_options(const options *o, const char *cmd)
{
    if (o->args.key_file && strcmp(cmd, "auth") != 0)
        return usage_error("--key is an option of auth");
    if (o->args.out_file && strcmp(cmd, "read") != 0)
        return usage_error("--out is an option of read");
    if (o->args.in_file && strcmp(cmd, "write") != 0)
        return usage_error("--file is an option of write");
    if (o->args.echo_size >= 0 && strcmp(cmd, "echo") != 0)
        return usage_error("--size is an option of echo");
    return DONG_EXIT_OK;
}

/*
 * open_chosen_port — --port N, or the first port with a key. A command that needs a
 * key is refused here with the driver's reason when the port has none ("LPT2: no
 * key — a printer is attached"), before any request is sent.
 */
static int open_chosen_port(const options *o, const dong_command *c, dong_port *p)
{
    char why[160];

    if (o->args.port) {
        if (!port_open(o->args.port, c->writes, p))
            return port_fail(o->args.port, "open", GetLastError());
        if (!port_info(p, &p->info)) {
            DWORD e = GetLastError();
            port_close(p);
            return port_fail(o->args.port, "probe", e);
        }
        if (c->port_use == DONG_PORT_KEY && p->info.Attached != DONG_PERIPHERAL_KEY) {
            attached_reason(&p->info, why, sizeof why);
            port_close(p);
            return dong_fail(DONG_EXIT_NO_KEY, "LPT%u: %s", o->args.port, why);
        }
        return DONG_EXIT_OK;
    }
    unsigned n;
    for (n = 1; n <= DONG_MAX_PORTS; n++) {
        if (!port_open(n, c->writes, p)) {
            DWORD e = GetLastError();
            if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
                break;
            continue;
        }
        if (port_info(p, &p->info) && p->info.Attached == DONG_PERIPHERAL_KEY)
            return DONG_EXIT_OK;
        port_close(p);
    }
    if (n == 1)
        return dong_fail(DONG_EXIT_SYSTEM, "no DongLpt ports: the DongLpt driver is not running");
    return dong_fail(DONG_EXIT_NO_KEY, "no DL-1 key on any port (dongctl ports says why)");
}

int main(int argc, char **argv)
{
    options o;
    const dong_command *c;
    dong_port port = { .handle = INVALID_HANDLE_VALUE };
    home_options ho;
    char err[512];
    int rc;

    if ((rc = parse_options(argc, argv, &o)))
        return rc;
    if (o.help) {
        usage(stdout);
        return DONG_EXIT_OK;
    }
    if (o.version) {
        printf("dongctl %s\n", DONG_VERSION_STRING);
        return DONG_EXIT_OK;
    }
    if (!o.command)
        return usage_error("which command?");
    for (c = g_commands; c->name && strcmp(c->name, o.command) != 0; c++)
        ;
    if (!c->name)
        return usage_error("unknown command '%s'", o.command);
    if ((rc = check_command_options(&o, c->name)))
        return rc;

    ho.machine = o.machine;
    ho.reg = o.reg;
    if (home_start(&ho, err, sizeof err)) {
        home_stop();
        return dong_fail(DONG_EXIT_SYSTEM, "%s", err);
    }
    if (c->port_use != DONG_PORT_NONE)
        rc = open_chosen_port(&o, c, &port);
    if (rc == DONG_EXIT_OK && o.trace &&
        home_trace_start(port.handle != INVALID_HANDLE_VALUE ? port.number : (o.args.port ? o.args.port : 1),
                         o.trace, err, sizeof err))
        rc = dong_fail(DONG_EXIT_SYSTEM, "--trace: %s", err);
    if (rc == DONG_EXIT_OK) {
        rc = c->run(port.handle != INVALID_HANDLE_VALUE ? &port : NULL, &o.args);
        if (rc == DONG_EXIT_USAGE)
            fprintf(stderr, "usage: dongctl %s\n", c->synopsis);
    }
    port_close(&port);
    home_stop();
    return rc;
}
