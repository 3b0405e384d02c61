/*
 * media_env.h - what the HTTP handlers of the cameras domain share: the
 * node's services, the prober and the cap on pictures being made. The
 * daemon makes one at start (media_env_new), registers media_env_routes
 * and stops it (media_env_free) before running the loop dry.
 */
#ifndef LT_MEDIA_ENV_H
#define LT_MEDIA_ENV_H

#include "media/live.h"
#include "media/prober.h"
#include "media/recorder.h"
#include "node/env/env.h"
#include "node/http/http.h"
#include "node/people/auth.h"

#include <stdatomic.h>

#define MEDIA_SNAPSHOTS_MAX 4 /* snapshots being made at once on one node */

/* Opens a field report for a camera event (set by the daemon, which knows
 * the reports domain): in is the input of reports_create (title,
 * description, category, lat, lon, unit); writes the report's code into
 * code. Returns 0, or -1 with e. */
typedef int (*media_report_fn)(void *ctx, const json_t *in, const auth_caller *who, char *code,
                               size_t cap, lt_error *e);

typedef struct media_env {
    node_env *node;
    media_prober *prober;
    media_live *live;
    media_recorder *recorder;
    atomic_uint snapshots;       /* under way */
    unsigned clips;              /* clip.mp4 answers under way (loop) */
    media_report_fn report_open; /* NULL: events cannot open reports */
    void *report_ctx;
} media_env;

/* The cameras domain of the node of env (not probing yet). NULL when out
 * of memory. */
media_env *media_env_new(node_env *env);

/* Starts probing the node's cameras every probe_interval_s seconds (0:
 * PROBER_DEFAULT_INTERVAL_S), the first round at once, and recording those
 * that ask for it. Returns 0, or -1 with err. */
int media_env_start(media_env *e, unsigned probe_interval_s, char *err, size_t errlen);

/* Stops the prober, if started, and frees e (the prober itself goes once
 * its probes under way ended: run the loop dry after this). NULL is
 * ignored. */
void media_env_free(media_env *e);

/* Fills routes (room for cap) with the domain's routes, bound to e:
 *   GET    /api/v1/cameras                 ?unit&field&status
 *   GET    /api/v1/cameras/stats           ?unit&by=field|child
 *   PUT    /api/v1/cameras/{id}            register or change (admin of the node's unit)
 *   GET    /api/v1/cameras/{id}
 *   DELETE /api/v1/cameras/{id}
 *   GET    /api/v1/cameras/{id}/snapshot.jpg   (owning node, thread pool)
 *   GET    /api/v1/cameras/{id}/thumbnail.jpg  (any node holding it)
 *   GET    /api/v1/cameras/{id}/live.mjpeg     (owning node; live.h)
 *   GET    /api/v1/cameras/{id}/recordings     ?from&to (ms; owning node)
 *   GET    /api/v1/cameras/{id}/clip.mp4       ?from&to (owning node, thread pool)
 *   POST   /api/v1/cameras/{id}/events         an event of a detector (owning node; events.h)
 *   GET    /api/v1/cameras/{id}/events         ?type&from&to&limit&cursor
 *   GET    /api/v1/cameras/{id}/events/{event}/picture.jpg
 *   GET    /api/v1/cameras/events              ?unit&camera&type&from&to&limit&cursor
 *   GET    /api/v1/cameras/events/counts       ?unit&from&to (days)
 * Returns how many were written. */
size_t media_env_routes(media_env *e, http_route *routes, size_t cap);

#endif
