/*
 * embed_gen.c - build-time tool: turns the web UI's files into a C source
 * file (node/http/static_web.c serves them from the binary).
 *
 *     embed_gen OUT.c URL=FILE [URL=FILE ...]
 *
 * Every file becomes its bytes and, when gzip makes it smaller, a gzip
 * copy (zlib, level 9), with its MIME type from the extension. The build
 * version is a 64-bit FNV-1a hash of every URL and file except index.html;
 * in files named *.html the text "__V__" becomes that version, so the page
 * references its assets under /ui/VERSION/ and they can be cached for ever.
 * Fails (exit 1, a message naming the file) on an unreadable file or an
 * unknown extension.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    const char *url;
    const char *path;
    unsigned char *data;
    size_t len;
} asset;

static const char *mime_of(const char *url)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".json", "application/json"},
        {".geojson", "application/geo+json"},
        {".ico", "image/x-icon"},
        {".pmtiles", "application/vnd.pmtiles"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(url, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof *map; i++)
        if (!strcmp(dot, map[i][0]))
            return map[i][1];
    return NULL;
}

static int read_file(asset *a)
{
    FILE *f = fopen(a->path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    a->data = malloc((size_t)n + 1);
    a->len = (size_t)n;
    int ok = a->data && fread(a->data, 1, a->len, f) == a->len;
    fclose(f);
    return ok ? 0 : -1;
}

/* Replaces every "__V__" in a->data with version. */
static void stamp_version(asset *a, const char *version)
{
    size_t vlen = strlen(version), cap = a->len + 1;
    for (size_t i = 0; i + 5 <= a->len; i++)
        if (!memcmp(a->data + i, "__V__", 5))
            cap += vlen;
    unsigned char *out = malloc(cap), *o = out;
    for (size_t i = 0; i < a->len;) {
        if (i + 5 <= a->len && !memcmp(a->data + i, "__V__", 5)) {
            memcpy(o, version, vlen);
            o += vlen;
            i += 5;
        } else {
            *o++ = a->data[i++];
        }
    }
    free(a->data);
    a->data = out;
    a->len = (size_t)(o - out);
}

static void write_bytes(FILE *out, const char *name, const unsigned char *p, size_t n)
{
    fprintf(out, "static const unsigned char %s[%zu] = {", name, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%u,", i % 24 ? "" : "\n", p[i]);
    fprintf(out, "%s};\n", n ? "" : "0");
}

/* Writes the gzip form of a (or nothing when it would not be smaller);
 * returns its length, 0 for none. */
static size_t write_gzip(FILE *out, const char *name, const asset *a)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    size_t cap = deflateBound(&z, a->len) + 32;
    unsigned char *gz = malloc(cap);
    z.next_in = a->data;
    z.avail_in = (uInt)a->len;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    size_t n = deflate(&z, Z_FINISH) == Z_STREAM_END ? z.total_out : 0;
    deflateEnd(&z);
    if (n && n < a->len - a->len / 20)
        write_bytes(out, name, gz, n);
    else
        n = 0;
    free(gz);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed_gen OUT.c URL=FILE...\n");
        return 2;
    }
    size_t n = (size_t)argc - 2;
    asset *as = calloc(n, sizeof *as);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(argv[i + 2], '=');
        if (!eq) {
            fprintf(stderr, "embed_gen: %s is not URL=FILE\n", argv[i + 2]);
            return 2;
        }
        *eq = 0;
        as[i].url = argv[i + 2];
        as[i].path = eq + 1;
        if (!mime_of(as[i].url)) {
            fprintf(stderr, "embed_gen: %s: unknown file type; add it to mime_of()\n", as[i].path);
            return 1;
        }
        if (read_file(&as[i])) {
            fprintf(stderr, "embed_gen: cannot read %s\n", as[i].path);
            return 1;
        }
        if (strstr(as[i].url, ".html"))
            continue;
        for (const char *p = as[i].url; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        for (size_t k = 0; k < as[i].len; k++)
            h = (h ^ as[i].data[k]) * 1099511628211ull;
    }
    char version[17];
    snprintf(version, sizeof version, "%016llx", (unsigned long long)h);
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "embed_gen: cannot write %s\n", argv[1]);
        return 1;
    }
    fprintf(out, "/* Generated by web/tools/embed_gen.c from web/: do not edit. */\n"
                 "#include \"node/http/static_web.h\"\n\n");
    size_t *gzlen = calloc(n, sizeof *gzlen);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        if (strstr(as[i].url, ".html"))
            stamp_version(&as[i], version);
        snprintf(name, sizeof name, "raw_%zu", i);
        write_bytes(out, name, as[i].data, as[i].len);
        snprintf(name, sizeof name, "gz_%zu", i);
        gzlen[i] = write_gzip(out, name, &as[i]);
    }
    fprintf(out, "\nconst char static_web_version[] = \"%s\";\n", version);
    fprintf(out, "const web_asset static_web_assets[] = {\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "    {\"%s\", \"%s\", raw_%zu, %zu, ", as[i].url, mime_of(as[i].url), i,
                as[i].len);
        if (gzlen[i])
            fprintf(out, "gz_%zu, %zu},\n", i, gzlen[i]);
        else
            fprintf(out, "NULL, 0},\n");
    }
    fprintf(out, "};\nconst size_t static_web_count = %zu;\n", n);
    for (size_t i = 0; i < n; i++)
        free(as[i].data);
    free(as);
    free(gzlen);
    return fclose(out) ? 1 : 0;
}
