/*
 * doc_edxml.c - edXML (QCVN 102:2016) messages in and out with libxml2:
 * a document as an edXMLEnvelope (the MessageHeader's From, To, Code,
 * PromulgationInfo, DocumentType, Subject, Content, SignerInfo, DueDate,
 * ToPlaces, OtherInfo with Priority, ResponseFor; the attachments in the
 * edXMLBody, base64), and a message read back as an incoming document
 * (documents.h). The parser never loads a DTD or anything from the
 * network, and expands no entities.
 */
#include "documents/doc_internal.h"
#include "lib/hex.h"

#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#define EDXML_NS "http://www.mic.gov.vn/TBT/QCVN_102_2016"

/* ---- export ---- */

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
    return xmlNewTextChild(parent, ns, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void add_opt(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
    if (text && *text)
        add(parent, ns, name, text);
}

static int priority_of(const char *urgency)
{
    for (int i = 0; i < 4; i++)
        if (urgency && !strcmp(doc_urgencies[i], urgency))
            return i;
    return 0;
}

static void header_code(xmlNodePtr h, xmlNsPtr ns, const json_t *doc)
{
    const char *notation = doc_str(doc, "notation"), *slash = strchr(notation, '/');
    char num[32];
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(doc, "number")));
    xmlNodePtr code = add(h, ns, "Code", NULL);
    add(code, ns, "CodeNumber", num);
    add(code, ns, "CodeNotation", slash ? slash + 1 : notation);
}

static void header_parties(xmlNodePtr h, xmlNsPtr ns, const json_t *doc)
{
    xmlNodePtr from = add(h, ns, "From", NULL);
    add(from, ns, "OrganId", doc_str(doc, "unit"));
    add_opt(from, ns, "OrganName", doc_str(doc, "unit_name"));
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(doc, "recipients"), i, v)
    {
        xmlNodePtr to = add(h, ns, "To", NULL);
        add(to, ns, "OrganId", json_string_value(v));
    }
}

/* The document this one updates (status 15) or replaces (16), as
 * ReplacementInfoList/ReplacementInfo {DocumentId, StatusCode}. */
static const char *const links[2][2] = {{"updates", "15"}, {"replaces", "16"}};

static void header_replacement(xmlNodePtr h, xmlNsPtr ns, const json_t *doc)
{
    for (size_t k = 0; k < 2; k++) {
        const char *old = doc_str(doc, links[k][0]);
        if (!old || !*old)
            continue;
        xmlNodePtr ri = add(add(h, ns, "ReplacementInfoList", NULL), ns, "ReplacementInfo", NULL);
        add(ri, ns, "DocumentId", old);
        add(ri, ns, "StatusCode", links[k][1]);
    }
}

static void header_info(documents *d, xmlNodePtr h, xmlNsPtr ns, const json_t *doc)
{
    xmlNodePtr pi = add(h, ns, "PromulgationInfo", NULL);
    add_opt(pi, ns, "Place", doc_str(doc, "place"));
    add(pi, ns, "PromulgationDate", doc_str(doc, "date"));
    doc_type t;
    bool known = doc_type_find(d, doc_str(doc, "type"), &t);
    xmlNodePtr dt = add(h, ns, "DocumentType", NULL);
    add(dt, ns, "Type", doc_str(doc, "type"));
    add(dt, ns, "TypeName", known ? t.vi : doc_str(doc, "type"));
    add(h, ns, "Subject", doc_str(doc, "subject"));
    add(h, ns, "Content", doc_str(doc, "body") ? doc_str(doc, "body") : "");
    const json_t *signer = json_object_get(doc, "signer");
    if (json_is_object(signer)) {
        xmlNodePtr si = add(h, ns, "SignerInfo", NULL);
        add_opt(si, ns, "Position", doc_str(signer, "position"));
        add_opt(si, ns, "FullName", doc_str(signer, "name"));
    }
    add_opt(h, ns, "DueDate", doc_str(doc, "due"));
    xmlNodePtr oi = add(h, ns, "OtherInfo", NULL);
    char pr[4];
    snprintf(pr, sizeof pr, "%d", priority_of(doc_str(doc, "urgency")));
    add(oi, ns, "Priority", pr);
    add_opt(oi, ns, "SecurityLevel", doc_str(doc, "security"));
    const char *answers = doc_str(doc, "answers");
    if (answers && *answers) {
        xmlNodePtr rf = add(h, ns, "ResponseFor", NULL);
        add(rf, ns, "DocumentId", answers);
    }
    header_replacement(h, ns, doc);
    add(h, ns, "DocumentId", doc_str(doc, "id"));
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} file_buf;

static int file_append(void *ctx, const uint8_t *data, size_t len)
{
    file_buf *b = ctx;
    if (b->len + len > b->cap)
        return -1;
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return 0;
}

/* One attachment as an edXML Attachment with its bytes in base64. */
static int body_file(documents *d, const char *doc_id, xmlNodePtr body, xmlNsPtr ns,
                     const json_t *f, lt_error *e)
{
    const char *hex = doc_str(f, "hash");
    json_int_t size = json_integer_value(json_object_get(f, "size"));
    json_int_t of = json_integer_value(json_object_get(f, "chunks"));
    if (!hex || size < 0 || size > DOC_FILE_MAX)
        return lt_error_set(e, LT_EINTERNAL, NULL, "an attachment entry is damaged");
    file_buf b = {malloc((size_t)size + 1), 0, (size_t)size};
    int rc = b.buf ? 0 : lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    for (json_int_t c = 0; !rc && c < of; c++)
        if (doc_chunk_read(d, doc_id, hex, (size_t)c, file_append, &b))
            rc = lt_error_set(e, LT_EUNAVAILABLE, "document.file_incomplete",
                              "this node does not hold all of attachment %s yet: retry later", hex);
    size_t blen = sodium_base64_encoded_len(b.len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = rc ? NULL : malloc(blen);
    if (!rc && !b64)
        rc = lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    if (!rc) {
        sodium_bin2base64(b64, blen, b.buf, b.len, sodium_base64_VARIANT_ORIGINAL);
        xmlNodePtr a = add(body, ns, "Attachment", NULL);
        add(a, ns, "ContentId", hex);
        add(a, ns, "AttachmentName", doc_str(f, "name"));
        add(a, ns, "ContentType", doc_str(f, "type"));
        add(a, ns, "Value", b64);
    }
    free(b64);
    free(b.buf);
    return rc;
}

char *documents_edxml_export(documents *d, const char *id, const char *unit, const unit_tree *tree,
                             size_t *len, lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    if (!doc || !doc_visible(doc, unit, tree)) {
        json_decref(doc);
        if (why < 0)
            lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id);
        return why < 0 ? NULL : (doc_not_found(id, e), NULL);
    }
    xmlDocPtr x = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "edXMLEnvelope");
    xmlNsPtr ns = xmlNewNs(root, BAD_CAST EDXML_NS, BAD_CAST "edXML");
    xmlSetNs(root, ns);
    xmlDocSetRootElement(x, root);
    xmlNodePtr h = add(add(root, ns, "edXMLHeader", NULL), ns, "MessageHeader", NULL);
    header_parties(h, ns, doc);
    header_code(h, ns, doc);
    header_info(d, h, ns, doc);
    xmlNodePtr body = add(root, ns, "edXMLBody", NULL);
    int rc = 0;
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f)
    {
        if (!rc)
            rc = body_file(d, id, body, ns, f, e);
    }
    xmlChar *out = NULL;
    int n = 0;
    if (!rc)
        xmlDocDumpFormatMemoryEnc(x, &out, &n, "UTF-8", 1);
    xmlFreeDoc(x);
    json_decref(doc);
    if (rc)
        return NULL;
    char *text = out ? malloc((size_t)n + 1) : NULL;
    if (text) {
        memcpy(text, out, (size_t)n);
        text[n] = '\0';
        *len = (size_t)n;
    } else {
        lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    }
    xmlFree(out);
    return text;
}

/* ---- import ---- */

/* The first child element of n called name in the edXML namespace. */
static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name) && c->ns &&
            !xmlStrcmp(c->ns->href, BAD_CAST EDXML_NS))
            return c;
    return NULL;
}

/* The text of element n (malloc'd by libxml2), or NULL. */
static char *text_of(xmlNodePtr n)
{
    return n ? (char *)xmlNodeGetContent(n) : NULL;
}

/* Reads a child's text into rec[key]; when required and absent or empty,
 * fails naming the element (path). */
static int take(json_t *rec, xmlNodePtr parent, const char *name, const char *key, const char *path,
                bool required, size_t max, lt_error *e)
{
    char *t = text_of(child(parent, name));
    int rc = 0;
    if ((!t || !*t) && required)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "the edXML message lacks %s/%s: it is required", path, name);
    else if (t && strlen(t) > max)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "%s/%s is %zu bytes long; at most %zu are accepted", path, name,
                          strlen(t), max);
    else if (t && *t && key)
        json_object_set_new(rec, key, json_string(t));
    xmlFree(t);
    return rc;
}

static int read_code(json_t *rec, xmlNodePtr h, lt_error *e)
{
    xmlNodePtr code = child(h, "Code");
    char *num = text_of(child(code, "CodeNumber")), *nt = text_of(child(code, "CodeNotation"));
    char *end = NULL;
    long long n = num ? strtoll(num, &end, 10) : 0;
    int rc = 0;
    if (!num || !*num || *end || n <= 0)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "MessageHeader/Code/CodeNumber must be a positive number");
    else if (!nt || !*nt || strlen(nt) > 60)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "MessageHeader/Code/CodeNotation is missing or too long");
    if (!rc) {
        char notation[96];
        snprintf(notation, sizeof notation, "%lld/%s", n, nt);
        json_object_set_new(rec, "number", json_integer(n));
        json_object_set_new(rec, "notation", json_string(notation));
    }
    xmlFree(num);
    xmlFree(nt);
    return rc;
}

static int read_type(documents *d, json_t *rec, xmlNodePtr h, lt_error *e)
{
    xmlNodePtr dt = child(h, "DocumentType");
    char *type = text_of(child(dt, "Type")), *name = text_of(child(dt, "TypeName"));
    doc_type t;
    bool known =
        doc_type_find(d, (const char *)type, &t) || doc_type_find(d, (const char *)name, &t);
    xmlFree(type);
    xmlFree(name);
    if (!known)
        return lt_error_set(e, LT_EINVAL, "document.edxml",
                            "MessageHeader/DocumentType names no known type (a code of GET "
                            "/api/v1/document-types in Type, or its Vietnamese name in TypeName)");
    json_object_set_new(rec, "type", json_string(t.code));
    return 0;
}

/* From, To: the sender's organ and the recipients this network knows. */
static int read_parties(documents *d, json_t *rec, xmlNodePtr h, const unit_tree *tree, lt_error *e)
{
    xmlNodePtr from = child(h, "From");
    if (take(rec, from, "OrganId", "unit", "MessageHeader/From", true, NODE_CODE_MAX - 1, e) ||
        take(rec, from, "OrganName", "unit_name", "MessageHeader/From", false, 300, e))
        return -1;
    json_t *rcp = json_array();
    json_object_set_new(rec, "recipients", rcp);
    size_t seen = 0;
    for (xmlNodePtr c = h->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "To"))
            continue;
        seen++;
        char *id = text_of(child(c, "OrganId"));
        if (id && *id && strlen(id) < NODE_CODE_MAX && unit_tree_known(tree, id, strlen(id)) &&
            json_array_size(rcp) < DOC_ADDRESS_MAX)
            json_array_append_new(rcp, json_string(id));
        xmlFree(id);
    }
    if (!seen)
        return lt_error_set(e, LT_EINVAL, "document.edxml",
                            "the edXML message has no MessageHeader/To: name a recipient");
    if (!json_array_size(rcp))
        json_array_append_new(rcp, json_string(d->c->unit));
    return 0;
}

/* ReplacementInfoList/ReplacementInfo into rec's "updates" (StatusCode
 * 15) or "replaces" (16). */
static int read_replacement(json_t *rec, xmlNodePtr h, lt_error *e)
{
    xmlNodePtr ri = child(child(h, "ReplacementInfoList"), "ReplacementInfo");
    if (!ri)
        return 0;
    char *code = text_of(child(ri, "StatusCode"));
    int k = code && !strcmp(code, "15") ? 0 : code && !strcmp(code, "16") ? 1 : -1;
    xmlFree(code);
    if (k < 0)
        return lt_error_set(e, LT_EINVAL, "document.edxml",
                            "MessageHeader/ReplacementInfoList/ReplacementInfo/StatusCode must be "
                            "15 (update) or 16 (replace)");
    return take(rec, ri, "DocumentId", links[k][0],
                "MessageHeader/ReplacementInfoList/ReplacementInfo", true, ENTRY_MAX_NAME, e);
}

static int read_info(json_t *rec, xmlNodePtr h, lt_error *e)
{
    xmlNodePtr pi = child(h, "PromulgationInfo"), si = child(h, "SignerInfo");
    xmlNodePtr oi = child(h, "OtherInfo"), rf = child(h, "ResponseFor");
    if (take(rec, h, "Subject", "subject", "MessageHeader", true, DOC_SUBJECT_MAX, e) ||
        take(rec, h, "Content", "body", "MessageHeader", false, DOC_BODY_MAX, e) ||
        take(rec, pi, "Place", "place", "MessageHeader/PromulgationInfo", false, 200, e) ||
        take(rec, pi, "PromulgationDate", "date", "MessageHeader/PromulgationInfo", true, 10, e) ||
        take(rec, h, "DueDate", "due", "MessageHeader", false, 10, e) ||
        take(rec, rf, "DocumentId", "answers", "MessageHeader/ResponseFor", false, ENTRY_MAX_NAME,
             e) ||
        read_replacement(rec, h, e))
        return -1;
    if (!doc_date_valid(doc_str(rec, "date")))
        return lt_error_set(e, LT_EINVAL, "document.edxml",
                            "MessageHeader/PromulgationInfo/PromulgationDate must be YYYY-MM-DD");
    if (doc_str(rec, "due") && !doc_date_valid(doc_str(rec, "due")))
        return lt_error_set(e, LT_EINVAL, "document.edxml",
                            "MessageHeader/DueDate must be YYYY-MM-DD");
    if (si) {
        json_t *s = json_object();
        json_object_set_new(rec, "signer", s);
        if (take(s, si, "FullName", "name", "MessageHeader/SignerInfo", true, 200, e) ||
            take(s, si, "Position", "position", "MessageHeader/SignerInfo", true, 200, e))
            return -1;
    }
    char *pr = text_of(child(oi, "Priority")), *sec = text_of(child(oi, "SecurityLevel"));
    int p = pr && pr[0] >= '0' && pr[0] <= '3' && !pr[1] ? pr[0] - '0' : -1;
    bool sec_ok = !sec || !*sec;
    for (int i = 0; i < 4 && !sec_ok; i++)
        sec_ok = !strcmp(sec, doc_securities[i]);
    int rc = 0;
    if (pr && p < 0)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "MessageHeader/OtherInfo/Priority must be 0, 1, 2 or 3");
    else if (!sec_ok)
        rc = lt_error_set(e, LT_EINVAL, "document.edxml",
                          "MessageHeader/OtherInfo/SecurityLevel must be thuong, mat, toi_mat or "
                          "tuyet_mat");
    json_object_set_new(rec, "urgency", json_string(doc_urgencies[p < 0 ? 0 : p]));
    json_object_set_new(rec, "security", json_string(sec && *sec ? sec : "thuong"));
    xmlFree(pr);
    xmlFree(sec);
    return rc;
}

/* The attachments of the body into files (bytes malloc'd). */
static int read_files(xmlNodePtr body, doc_file *files, size_t *n, lt_error *e)
{
    *n = 0;
    for (xmlNodePtr a = body ? body->children : NULL; a; a = a->next) {
        if (a->type != XML_ELEMENT_NODE || xmlStrcmp(a->name, BAD_CAST "Attachment"))
            continue;
        if (*n == DOC_FILES_MAX)
            return lt_error_set(e, LT_EINVAL, "document.files_too_many",
                                "a document has at most %d attachments", DOC_FILES_MAX);
        char *v = text_of(child(a, "Value")), *name = text_of(child(a, "AttachmentName"));
        size_t vlen = v ? strlen(v) : 0, max = vlen / 4 * 3 + 3;
        uint8_t *bin = v && max <= DOC_FILE_MAX + 3 ? malloc(max + 1) : NULL;
        size_t blen = 0;
        int bad = !bin || sodium_base642bin(bin, max, v, vlen, " \t\r\n", &blen, NULL,
                                            sodium_base64_VARIANT_ORIGINAL);
        xmlFree(v);
        files[*n] = (doc_file){name ? strdup(name) : NULL, NULL, bin, blen};
        xmlFree(name);
        (*n)++;
        if (bad)
            return lt_error_set(e, max > DOC_FILE_MAX + 3 ? LT_ETOOLARGE : LT_EINVAL,
                                max > DOC_FILE_MAX + 3 ? "document.file_too_large"
                                                       : "document.edxml",
                                "edXMLBody/Attachment %zu/Value is not base64 of a file of at "
                                "most %u bytes",
                                *n, DOC_FILE_MAX);
    }
    return 0;
}

/* The document record of the message x, checked; files into files. */
static json_t *edxml_read(documents *d, xmlDocPtr x, const unit_tree *tree, doc_file *files,
                          size_t *nfiles, lt_error *e)
{
    xmlNodePtr root = xmlDocGetRootElement(x);
    if (!root || xmlStrcmp(root->name, BAD_CAST "edXMLEnvelope") || !root->ns ||
        xmlStrcmp(root->ns->href, BAD_CAST EDXML_NS)) {
        lt_error_set(e, LT_EINVAL, "document.edxml",
                     "the root element must be edXMLEnvelope in namespace " EDXML_NS);
        return NULL;
    }
    xmlNodePtr h = child(child(root, "edXMLHeader"), "MessageHeader");
    if (!h) {
        lt_error_set(e, LT_EINVAL, "document.edxml",
                     "the edXML message lacks edXMLHeader/MessageHeader");
        return NULL;
    }
    json_t *rec = json_object();
    if (read_parties(d, rec, h, tree, e) || read_code(rec, h, e) || read_type(d, rec, h, e) ||
        read_info(rec, h, e) || read_files(child(root, "edXMLBody"), files, nfiles, e) ||
        doc_files_check(files, *nfiles, e)) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* The id of an incoming document: stable for one message (sender, code,
 * date), so importing it twice finds the first. */
static void incoming_id(documents *d, const json_t *rec, char id[ENTRY_MAX_NAME + 1])
{
    char key[512];
    snprintf(key, sizeof key, "%s\n%s\n%s", doc_str(rec, "unit"), doc_str(rec, "notation"),
             doc_str(rec, "date"));
    uint8_t h[8];
    char hex[17];
    crypto_generichash(h, sizeof h, (const uint8_t *)key, strlen(key), NULL, 0);
    hex_encode(h, sizeof h, hex);
    snprintf(id, ENTRY_MAX_NAME + 1, "%s-IN-%s", d->c->unit, hex);
}

json_t *documents_edxml_import(documents *d, const char *xml, size_t len, const doc_actor *who,
                               const unit_tree *tree, lt_error *e)
{
    if (len > INT32_MAX) {
        lt_error_set(e, LT_ETOOLARGE, "document.file_too_large", "the message is too large");
        return NULL;
    }
    if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
        lt_error_set(e, LT_EINVAL, "document.edxml",
                     "the edXML message carries a DOCTYPE or ENTITY declaration: edXML has none, "
                     "and they are refused");
        return NULL;
    }
    xmlDocPtr x =
        xmlReadMemory(xml, (int)len, "edxml.xml", NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    if (!x) {
        const xmlError *xe = xmlGetLastError();
        lt_error_set(e, LT_EINVAL, "document.edxml",
                     "the edXML message is not well-formed XML (line %d: %s)", xe ? xe->line : 0,
                     xe && xe->message ? xe->message : "unknown error");
        return NULL;
    }
    doc_file files[DOC_FILES_MAX] = {{0}};
    size_t nfiles = 0;
    json_t *rec = edxml_read(d, x, tree, files, &nfiles, e), *out = NULL;
    xmlFreeDoc(x);
    char id[ENTRY_MAX_NAME + 1];
    uint8_t *old;
    size_t oldlen;
    if (rec) {
        incoming_id(d, rec, id);
        if (!store_record_get(d->s, DOC_COLL, id, &old, &oldlen)) {
            free(old);
            lt_error_set(e, LT_ECONFLICT, "document.exists",
                         "this message was imported before as document %s", id);
        } else {
            json_object_set_new(rec, "status", json_string("sent"));
            json_object_set_new(rec, "source", json_string("edxml"));
            json_object_set_new(rec, "received_by", json_string(d->c->unit));
            json_object_set_new(rec, "by", json_string(who->user));
            json_object_set_new(rec, "created_at", json_integer((json_int_t)d->now_ms(d->now_ctx)));
            const char *to[DOC_ADDRESS_MAX + 1] = {d->c->unit};
            size_t nto = 1, i;
            const json_t *v;
            json_array_foreach(json_object_get(rec, "recipients"), i, v)
            {
                if (strcmp(json_string_value(v), d->c->unit))
                    to[nto++] = json_string_value(v);
            }
            if (!doc_store(d, id, rec, files, nfiles, to, nto, NULL, e))
                out = json_pack("{s:s, s:s}", "id", id, "notation", doc_str(rec, "notation"));
        }
    }
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].name);
        free(files[i].data);
    }
    json_decref(rec);
    return out;
}
