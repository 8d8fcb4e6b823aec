/* Bearer tokens (common/auth.h): the file's grammar and its errors, lookups by role, the
 * comparison, reload keeping the old table on a bad file, the client's token file, the
 * command-line option, and the bind policy. */
#include "common/auth.h"
#include "common/sl_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/sluice-auth-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_roles(void **s)
{
    (void)s;
    char err[512];
    auth *a = auth_open(write_file("t", "# tokens\n\n  adm-1 admin\nrdr-2\treader\r\n"
                                        "in-3 instance:sidecar-1\npad-4== reader\n"),
                        err, sizeof err);
    assert_non_null(a);
    assert_int_equal(auth_count(a), 4);
    auth_principal p;
    assert_true(auth_check(a, "Bearer adm-1", &p));
    assert_int_equal(p.role, AUTH_ROLE_ADMIN);
    assert_true(auth_check(a, "bearer rdr-2 ", &p)); /* the scheme is case-insensitive */
    assert_int_equal(p.role, AUTH_ROLE_READER);
    assert_true(auth_check(a, "Bearer in-3", &p));
    assert_int_equal(p.role, AUTH_ROLE_INSTANCE);
    assert_string_equal(p.instance, "sidecar-1");
    assert_true(auth_check(a, "Bearer pad-4==", &p));
    const char *bad[] = {NULL,
                         "",
                         "Bearer",
                         "Bearer ",
                         "Basic adm-1",
                         "Bearer adm-",
                         "Bearer adm-12",
                         "Bearer ADM-1",
                         "adm-1",
                         "Bearer pad-4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (auth_check(a, bad[i], &p)) fail_msg("accepted: %s", bad[i] ? bad[i] : "(null)");
    assert_string_equal(auth_role_name(AUTH_ROLE_INSTANCE), "instance");
    auth_close(a);
}

static void test_bad_files(void **s)
{
    (void)s;
    struct {
        const char *text, *want;
    } cases[] = {
        {"tok admin\ntok reader\n", ":2: the token of line 1 is listed again"},
        {"tok superuser\n", ":1: unknown role 'superuser'"},
        {"tok instance:\n", ":1: unknown role"},
        {"tok instance:a/b\n", ":1: unknown role"},
        {"tok instance:a__b\n", ":1: unknown role"},
        {"tok\n", ":1: expected TOKEN ROLE[:INSTANCE]"},
        {"tok admin extra\n", ":1: expected TOKEN ROLE[:INSTANCE]"},
        {"to\"k admin\n", ":1: the token is not a bearer token"},
        {"=tok admin\n", ":1: the token is not a bearer token"},
        {"to=k admin\n", ":1: the token is not a bearer token"},
        {"# only comments\n\n", ": no token in it"},
        {"", ": no token in it"},
    };
    char err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        auth *a = auth_open(write_file("bad", cases[i].text), err, sizeof err);
        if (a) fail_msg("accepted case %zu", i);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    char big[AUTH_TOKEN_MAX + 32];
    memset(big, 'a', AUTH_TOKEN_MAX + 1);
    snprintf(big + AUTH_TOKEN_MAX + 1, 16, " admin\n");
    assert_null(auth_open(write_file("big", big), err, sizeof err));
    big[AUTH_TOKEN_MAX] = ' '; /* exactly AUTH_TOKEN_MAX bytes: fine */
    auth *a = auth_open(write_file("big", big), err, sizeof err);
    assert_non_null(a);
    auth_close(a);
    char path[128];
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_null(auth_open(path, err, sizeof err));
    assert_non_null(strstr(err, "missing"));
}

static void test_reload(void **s)
{
    (void)s;
    char err[512];
    const char *path = write_file("r", "old-1 reader\n");
    auth *a = auth_open(path, err, sizeof err);
    assert_non_null(a);
    auth_principal p;
    write_file("r", "new-1 admin\nnew-2 reader\n");
    assert_int_equal(auth_reload(a, err, sizeof err), 0);
    assert_false(auth_check(a, "Bearer old-1", &p));
    assert_true(auth_check(a, "Bearer new-1", &p));
    assert_int_equal(auth_count(a), 2);
    write_file("r", "new-1 admin\nbroken\n");
    assert_int_equal(auth_reload(a, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, ":2:"));
    assert_true(auth_check(a, "Bearer new-2", &p)); /* the old table stays */
    auth_sighup(a);
    auth_sighup(NULL);
    auth_close(a);
    auth_close(NULL);
}

static void test_equal(void **s)
{
    (void)s;
    assert_true(auth_equal("abc", 3, "abc", 3));
    assert_false(auth_equal("abc", 3, "abd", 3));
    assert_false(auth_equal("abc", 3, "abcabc", 6));
    assert_false(auth_equal("abcabc", 6, "abc", 3)); /* b repeated would match byte for byte */
    assert_false(auth_equal("", 0, "a", 1));
    assert_true(auth_equal("", 0, "", 0));
}

static void test_client_token(void **s)
{
    (void)s;
    char err[512], *t = NULL;
    assert_int_equal(auth_token_read(write_file("c", "# mine\n\n  tok-9  \n"), &t, err, sizeof err),
                     0);
    assert_string_equal(t, "tok-9");
    free(t);
    assert_int_equal(auth_token_read(write_file("c", "tok 9\n"), &t, err, sizeof err), SL_EINVAL);
    assert_int_equal(auth_token_read(write_file("c", "\n#\n"), &t, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "no token"));

    const char *path = write_file("cli", "cli-tok\n");
    char a0[] = "sluice", a1[] = "add", a2[] = "--token-file", a4[] = "--x",
         a5[] = "--ca-file=ca.pem", a6[] = "--cert", a7[] = "c.pem", a8[] = "--key", a9[] = "k.pem";
    char a3[128];
    snprintf(a3, sizeof a3, "%s", path);
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, NULL};
    int argc = 10;
    unsetenv("SLUICE_TOKEN_FILE");
    unsetenv("SLUICE_CA_FILE");
    unsetenv("SLUICE_CERT_FILE");
    unsetenv("SLUICE_KEY_FILE");
    auth_cli c;
    assert_int_equal(auth_cli_parse(&argc, argv, &c, err, sizeof err), 0);
    assert_string_equal(c.token, "cli-tok");
    assert_string_equal(c.ca_file, "ca.pem");
    assert_string_equal(c.cert_file, "c.pem");
    assert_string_equal(c.key_file, "k.pem");
    assert_int_equal(argc, 3);
    assert_string_equal(argv[1], "add");
    assert_string_equal(argv[2], "--x");
    assert_null(argv[3]);
    auth_cli_free(&c);
    assert_null(c.token);
    char eq[160];
    snprintf(eq, sizeof eq, "--token-file=%s", path);
    char *argv2[] = {a0, eq, NULL};
    argc = 2;
    assert_int_equal(auth_cli_parse(&argc, argv2, &c, err, sizeof err), 0);
    assert_string_equal(c.token, "cli-tok");
    assert_null(c.ca_file);
    assert_int_equal(argc, 1);
    auth_cli_free(&c);
    char *argv3[] = {a0, a1, NULL};
    argc = 2;
    assert_int_equal(auth_cli_parse(&argc, argv3, &c, err, sizeof err), 0);
    assert_null(c.token);
    setenv("SLUICE_TOKEN_FILE", path, 1);
    setenv("SLUICE_CA_FILE", "env-ca.pem", 1);
    assert_int_equal(auth_cli_parse(&argc, argv3, &c, err, sizeof err), 0);
    assert_string_equal(c.token, "cli-tok");
    assert_string_equal(c.ca_file, "env-ca.pem");
    auth_cli_free(&c);
    unsetenv("SLUICE_TOKEN_FILE");
    unsetenv("SLUICE_CA_FILE");
    char *argv4[] = {a0, a2, NULL};
    argc = 2;
    assert_int_equal(auth_cli_parse(&argc, argv4, &c, err, sizeof err), SL_EINVAL);
    char *argv5[] = {a0, a8, a9, NULL};
    argc = 3;
    assert_int_equal(auth_cli_parse(&argc, argv5, &c, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "--key needs --cert"));
}

static void test_bind_policy(void **s)
{
    (void)s;
    const char *loop[] = {"127.0.0.1", "127.1.2.3", "::1", "localhost"};
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++)
        assert_true(auth_bind_is_loopback(loop[i]));
    const char *open[] = {
        NULL, "", "0.0.0.0", "::", "10.0.0.1", "127.0.0.1x", "128.0.0.1", "127.0.0.256"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        if (auth_bind_is_loopback(open[i])) fail_msg("loopback: %s", open[i] ? open[i] : "NULL");
    char err[512];
    auth *a = (auth *)1;
    assert_int_equal(auth_server_open("0.0.0.0", NULL, false, &a, err, sizeof err), SL_EINVAL);
    assert_null(a);
    assert_non_null(strstr(err, "http.bind: 0.0.0.0"));
    assert_int_equal(auth_server_open(NULL, NULL, false, &a, err, sizeof err), SL_EINVAL);
    assert_int_equal(auth_server_open("0.0.0.0", NULL, true, &a, err, sizeof err), 0);
    assert_null(a);
    assert_int_equal(auth_server_open("127.0.0.1", NULL, false, &a, err, sizeof err), 0);
    assert_null(a);
    const char *path = write_file("srv", "t-1 admin\n");
    assert_int_equal(auth_server_open("0.0.0.0", path, true, &a, err, sizeof err), SL_EINVAL);
    assert_int_equal(auth_server_open("0.0.0.0", path, false, &a, err, sizeof err), 0);
    assert_non_null(a);
    auth_close(a);
    write_file("srv", "t-1 nobody\n");
    assert_int_equal(auth_server_open("127.0.0.1", path, false, &a, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "auth.tokens.file: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_reload),       cmocka_unit_test(test_equal),
        cmocka_unit_test(test_client_token), cmocka_unit_test(test_bind_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
