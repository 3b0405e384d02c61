/*
 * enrol_client.c - sending an enrolment or rotation request and waiting for
 * the decision. See enrol_client.h.
 */
#include "cli/enrol_client.h"
#include "cli/cli.h"
#include "node/http/http_client.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUEST_TIMEOUT_MS 10000
#define POLL_MS 1000

static const char *state_of(json_t *rec)
{
    const char *s = json_string_value(json_object_get(rec, "state"));
    return s ? s : "";
}

int enrol_client_send(const char *cmd, const url_parts *u, json_t *body, int timeout_s, bool wait,
                      json_t **rec)
{
    char err[512], path[128];
    int status;
    json_t *reply;
    *rec = NULL;
    if (http_client_json(u, "POST", "/api/v1/enrol/requests", body, REQUEST_TIMEOUT_MS, &status,
                         &reply, err, sizeof err))
        return cli_error(cmd, CLI_FAIL, "%s", err);
    const char *id = json_string_value(json_object_get(reply, "id"));
    if (status >= 300 || !id) {
        cli_error(cmd, CLI_FAIL, "the parent at %s refused the request (HTTP %d): %s", u->hostport,
                  status, http_client_error_message(reply, "no reason given"));
        json_decref(reply);
        return CLI_FAIL;
    }
    printf("request %s at %s\nfingerprint %s (the parent's admin must see the same)\n", id,
           u->hostport, json_string_value(json_object_get(reply, "fingerprint")));
    fflush(stdout);
    char idcopy[32];
    snprintf(idcopy, sizeof idcopy, "%s", id);
    snprintf(path, sizeof path, "/api/v1/enrol/requests/%s", idcopy);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool told = false;
    while (!strcmp(state_of(reply), "pending")) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!wait) {
            printf("pending: the admin approves it with lienthong approve --dir PARENT_DIR %s; "
                   "then run this command again to finish\n",
                   idcopy);
            json_decref(reply);
            return ENROL_PENDING;
        }
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            json_decref(reply);
            return cli_error(cmd, CLI_FAIL,
                             "no decision on request %s within %d s: it stays pending at %s; "
                             "run the same command again to keep waiting",
                             idcopy, timeout_s, u->hostport);
        }
        if (!told)
            printf("waiting for the admin at the parent to approve it (lienthong approve "
                   "--dir PARENT_DIR %s), at most %d s...\n",
                   idcopy, timeout_s);
        told = true;
        fflush(stdout);
        struct timespec pause = {POLL_MS / 1000, (POLL_MS % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        json_t *next = NULL;
        if (http_client_json(u, "GET", path, NULL, REQUEST_TIMEOUT_MS, &status, &next, err,
                             sizeof err) ||
            status != 200 || !json_is_object(next)) {
            json_decref(next); /* the parent may be restarting: keep asking */
            continue;
        }
        json_decref(reply);
        reply = next;
    }
    if (!strcmp(state_of(reply), "approved")) {
        *rec = reply;
        return CLI_OK;
    }
    const char *reason = json_string_value(json_object_get(reply, "reason"));
    cli_error(cmd, CLI_FAIL,
              "request %s was %s by the parent: %s; fix that, then ask again "
              "with --again",
              idcopy, state_of(reply), reason ? reason : "no reason given");
    json_decref(reply);
    return CLI_FAIL;
}

void enrol_client_entries_free(store_input *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)in[i].bytes);
    free(in);
}

int enrol_client_entries(json_t *rec, store_input **in, size_t *n, char *err, size_t errlen)
{
    json_t *a = json_object_get(rec, "entries"), *v;
    size_t i;
    *n = 0;
    *in = calloc(json_array_size(a) + 1, sizeof **in);
    if (!json_is_array(a) || !*in) {
        snprintf(err, errlen, "the approval carries no membership entries");
        free(*in);
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        const char *b64 = json_string_value(v);
        size_t cap = b64 ? strlen(b64) : 0, len;
        uint8_t *bytes = malloc(cap + 1);
        if (!b64 || !bytes ||
            sodium_base642bin(bytes, cap, b64, cap, NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL)) {
            free(bytes);
            enrol_client_entries_free(*in, *n);
            snprintf(err, errlen, "membership entry %zu of the approval is not base64", i);
            return -1;
        }
        (*in)[(*n)++] = (store_input){bytes, len};
    }
    return 0;
}
