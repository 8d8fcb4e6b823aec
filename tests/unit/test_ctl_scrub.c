/* The store scrub's decisions (completion/ctl_scrub.c), pure: which DONE records' files belong
 * in this store (a shared store holds them all; a private one those committed under this
 * controller's URL, not a URL that merely starts like it), and the verdict on the file found:
 * good with the committed CRC; bad when it fails verification, has another CRC, or is missing
 * from this store; not this store's business when missing and committed elsewhere. The pass
 * itself runs against real processes in tests/integration/test_store_scrub.sh. */
#include "common/sl_err.h"
#include "completion/ctl_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define ME "http://127.0.0.1:9101"

static segmeta meta(const char *url, uint32_t crc)
{
    segmeta m;
    memset(&m, 0, sizeof m);
    snprintf(m.segment, sizeof m.segment, "events__0__3__20240102T0304Z");
    snprintf(m.download_url, sizeof m.download_url, "%s", url);
    m.status = SEGMETA_DONE;
    m.crc = crc;
    return m;
}

static void test_ours(void **state)
{
    (void)state;
    segmeta mine = meta(ME "/segments/events/events__0__3__20240102T0304Z", 1);
    segmeta other = meta("http://127.0.0.1:9102/segments/events/events__0__3__20240102T0304Z", 1);
    segmeta longer = meta(ME "0/segments/events/events__0__3__20240102T0304Z", 1);
    segmeta none = meta("", 1);
    assert_true(ctl__scrub_ours(&mine, ME, false));
    assert_false(ctl__scrub_ours(&other, ME, false));
    assert_false(ctl__scrub_ours(&longer, ME, false)); /* port 91010 is another controller */
    assert_false(ctl__scrub_ours(&none, ME, false));
    assert_false(ctl__scrub_ours(&mine, "", false));
    assert_true(ctl__scrub_ours(&other, ME, true)); /* deepstore.uri: every commit lands here */
    assert_true(ctl__scrub_ours(&none, ME, true));
    /* pushed: in a shared store only a copy a controller serves (not a METADATA push's URI) */
    segmeta pushed = meta("http://127.0.0.1:9102/segments/billing_OFFLINE/b_0", 1);
    pushed.status = SEGMETA_UPLOADED;
    snprintf(pushed.table, sizeof pushed.table, "billing_OFFLINE");
    snprintf(pushed.segment, sizeof pushed.segment, "b_0");
    assert_true(ctl__scrub_ours(&pushed, ME, true));
    assert_false(ctl__scrub_ours(&pushed, ME, false)); /* another controller's */
    segmeta meta_push = pushed;
    snprintf(meta_push.download_url, sizeof meta_push.download_url, "file:///shared/b_0.seg");
    assert_false(ctl__scrub_ours(&meta_push, ME, true));
    snprintf(meta_push.download_url, sizeof meta_push.download_url,
             "webhdfs://nn:9870/segments/billing_OFFLINE/b_0");
    assert_false(ctl__scrub_ours(&meta_push, ME, true));
}

static void test_verdict(void **state)
{
    (void)state;
    segmeta m = meta(ME "/segments/events/events__0__3__20240102T0304Z", 0xdeadbeef);
    char why[256] = "";
    assert_int_equal(ctl__scrub_verdict(&m, true, 0, "", 0xdeadbeef, why, sizeof why),
                     CTL_SCRUB_GOOD);
    assert_int_equal(ctl__scrub_verdict(&m, false, 0, "", 0xdeadbeef, why, sizeof why),
                     CTL_SCRUB_GOOD); /* a present file is checked wherever it was committed */

    assert_int_equal(ctl__scrub_verdict(&m, true, 0, "", 0xdeadbeee, why, sizeof why),
                     CTL_SCRUB_BAD);
    assert_string_equal(why, "crc 3735928558 where 3735928559 was committed");

    assert_int_equal(ctl__scrub_verdict(&m, false, SL_ECORRUPT, "crc mismatch at offset 4096", 0,
                                        why, sizeof why),
                     CTL_SCRUB_BAD);
    assert_non_null(strstr(why, "fails verification"));
    assert_non_null(strstr(why, "crc mismatch at offset 4096"));

    assert_int_equal(ctl__scrub_verdict(&m, true, SL_ENOENT, "", 0, why, sizeof why),
                     CTL_SCRUB_BAD);
    assert_string_equal(why, "missing");
    why[0] = '\0';
    assert_int_equal(ctl__scrub_verdict(&m, false, SL_ENOENT, "", 0, why, sizeof why),
                     CTL_SCRUB_ABSENT);
    assert_string_equal(why, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ours),
        cmocka_unit_test(test_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
