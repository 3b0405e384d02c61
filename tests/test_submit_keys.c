/*
 * test_submit_keys.c - the idempotency keys of citizens' submissions
 * (reports/submit_keys.h): a new key is pending until finished, a finished
 * one gives back its report, a failed one is forgotten, keys are per
 * address, expire after a day, and a full table gives up its oldest key.
 */
#include "reports/submit_keys.h"
#include "tests/check.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    submit_keys *k = submit_keys_new();
    REQUIRE(k);
    char code[REPORT_CODE_MAX] = "", token[REPORT_TOKEN_MAX] = "";

    CHECK(submit_keys_valid("k-7f3a_9c"));
    CHECK(!submit_keys_valid(""));
    CHECK(!submit_keys_valid(NULL));
    CHECK(!submit_keys_valid("no spaces"));
    char longkey[SUBMIT_KEY_MAX + 2];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[SUBMIT_KEY_MAX + 1] = 0;
    CHECK(!submit_keys_valid(longkey));
    longkey[SUBMIT_KEY_MAX] = 0;
    CHECK(submit_keys_valid(longkey));

    uint64_t t = 1000;
    CHECK(submit_keys_claim(k, "1.2.3.4", "a", t, code, token) == SUBMIT_KEY_NEW);
    CHECK(submit_keys_claim(k, "1.2.3.4", "a", t, code, token) == SUBMIT_KEY_PENDING);
    CHECK(submit_keys_claim(k, "5.6.7.8", "a", t, code, token) == SUBMIT_KEY_NEW); /* per address */
    submit_keys_finish(k, "1.2.3.4", "a", "16681-7", "tok");
    CHECK(submit_keys_claim(k, "1.2.3.4", "a", t + 5, code, token) == SUBMIT_KEY_DONE);
    CHECK(!strcmp(code, "16681-7") && !strcmp(token, "tok"));

    /* a failed submission forgets its key: the retry stores */
    submit_keys_finish(k, "5.6.7.8", "a", NULL, NULL);
    CHECK(submit_keys_claim(k, "5.6.7.8", "a", t, code, token) == SUBMIT_KEY_NEW);

    /* a day later the key is new again */
    CHECK(submit_keys_claim(k, "1.2.3.4", "a", t + SUBMIT_KEY_TTL_MS, code, token) ==
          SUBMIT_KEY_NEW);

    /* a full table gives up its oldest key, keeps the newer ones */
    char key[32];
    for (int i = 0; i < SUBMIT_KEYS; i++) {
        snprintf(key, sizeof key, "fill-%d", i);
        submit_keys_claim(k, "9.9.9.9", key, 2 * SUBMIT_KEY_TTL_MS + (uint64_t)i, code, token);
        submit_keys_finish(k, "9.9.9.9", key, "16681-1", "t");
    }
    CHECK(submit_keys_claim(k, "9.9.9.9", "newest", 3 * SUBMIT_KEY_TTL_MS - 1, code, token) ==
          SUBMIT_KEY_NEW);
    CHECK(submit_keys_claim(k, "9.9.9.9", "fill-0", 3 * SUBMIT_KEY_TTL_MS - 1, code, token) ==
          SUBMIT_KEY_NEW); /* given up */
    CHECK(submit_keys_claim(k, "9.9.9.9", "fill-1023", 3 * SUBMIT_KEY_TTL_MS - 1, code, token) ==
          SUBMIT_KEY_DONE);

    submit_keys_free(k);
    submit_keys_free(NULL);
    return check_done();
}
