/*
 * ob_namespace.c — the object namespace: directories, named objects, symbolic links.
 *
 * One tree rooted at "\" holds \Device, \Driver, \?? (the DOS devices directory) and
 * the links \DosDevices and \GLOBAL?? that name it, as on NT. Names compare
 * case-insensitively and keep the case they were created with. A lookup follows
 * symbolic links in every component (and in the last one unless the caller opens
 * the link itself); when it reaches an object that is not a directory with path left
 * over, the rest is returned to the caller, as NT hands it to a device's parse
 * routine (it becomes the FILE_OBJECT's FileName).
 *
 * The namespace does not own the objects it names: a device or driver object stays in
 * the tree until its owner removes the name (IoDeleteDevice, driver unload). A
 * lookup references the object it returns while the tree is locked, so the object
 * cannot go away between the lookup and the caller's use.
 *
 * Locking: the tree is guarded by a spin lock; node memory comes from the C heap,
 * never from pool, so that driver pool accounting sees only what drivers allocate.
 */
#include <ntddk.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

/* NT gives up after this many symbolic-link substitutions in one lookup. */
#define OBP_MAX_REPARSE 32

typedef struct ob_ns_node ob_ns_node;
struct ob_ns_node {
    ob_ns_node *parent;
    WCHAR *name;              /* as created (case preserved) */
    USHORT name_len;          /* in characters */
    ob_ns_kind kind;
    const char *type_name;    /* "Directory", "SymbolicLink", "Device", "Driver", ... */
    PVOID object;             /* the named object (devices, drivers); NULL otherwise */
    WCHAR *target;            /* symbolic links: the target path */
    USHORT target_len;
    PVOID creator;            /* symbolic links: the code address that created them */
    ob_ns_node **children;    /* directories: sorted case-insensitively */
    ULONG nchildren, cap;
};

static ob_ns_node *ns_root;
static KSPIN_LOCK ns_lock;

static int ns_compare(const WCHAR *a, USHORT alen, const WCHAR *b, USHORT blen)
{
    USHORT n = alen < blen ? alen : blen;
    for (USHORT i = 0; i < n; i++) {
        WCHAR ca = RtlUpcaseUnicodeChar(a[i]), cb = RtlUpcaseUnicodeChar(b[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static WCHAR *ns_dup(const WCHAR *s, USHORT len)
{
    WCHAR *d = malloc(((size_t)len + 1) * sizeof(WCHAR));
    if (d) {
        memcpy(d, s, (size_t)len * sizeof(WCHAR));
        d[len] = 0;
    }
    return d;
}

static void ns_free_node(ob_ns_node *n)
{
    for (ULONG i = 0; i < n->nchildren; i++)
        ns_free_node(n->children[i]);
    free(n->children);
    free(n->name);
    free(n->target);
    free(n);
}

/* Binary search of a directory; *pos gets the insertion point when absent. */
static ob_ns_node *ns_find_child(ob_ns_node *dir, const WCHAR *name, USHORT len, ULONG *pos)
{
    ULONG lo = 0, hi = dir->nchildren;
    while (lo < hi) {
        ULONG mid = (lo + hi) / 2;
        ob_ns_node *c = dir->children[mid];
        int r = ns_compare(name, len, c->name, c->name_len);
        if (r == 0) {
            if (pos)
                *pos = mid;
            return c;
        }
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (pos)
        *pos = lo;
    return NULL;
}

static NTSTATUS ns_link_child(ob_ns_node *dir, ob_ns_node *child, ULONG pos)
{
    if (dir->nchildren == dir->cap) {
        ULONG ncap = dir->cap ? dir->cap * 2 : 8;
        ob_ns_node **nc = realloc(dir->children, ncap * sizeof(*nc));
        if (!nc)
            return STATUS_INSUFFICIENT_RESOURCES;
        dir->children = nc;
        dir->cap = ncap;
    }
    memmove(&dir->children[pos + 1], &dir->children[pos], (dir->nchildren - pos) * sizeof(*dir->children));
    dir->children[pos] = child;
    dir->nchildren++;
    child->parent = dir;
    return STATUS_SUCCESS;
}

static void ns_unlink_child(ob_ns_node *n)
{
    ob_ns_node *dir = n->parent;
    ULONG pos;
    if (!dir || ns_find_child(dir, n->name, n->name_len, &pos) != n)
        return;
    memmove(&dir->children[pos], &dir->children[pos + 1], (dir->nchildren - pos - 1) * sizeof(*dir->children));
    dir->nchildren--;
    n->parent = NULL;
}

/*
 * A path being resolved: an owned, NUL-free copy that symbolic-link substitution can
 * replace. Components are separated by single backslashes; the path is absolute.
 */
typedef struct ns_cursor {
    WCHAR *buf;
    USHORT len;
    USHORT pos; /* index of the next component's first character */
} ns_cursor;

static NTSTATUS ns_cursor_init(ns_cursor *c, const WCHAR *path, USHORT len)
{
    if (len == 0 || path[0] != L'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    c->buf = ns_dup(path, len);
    if (!c->buf)
        return STATUS_INSUFFICIENT_RESOURCES;
    c->len = len;
    c->pos = 1;
    return STATUS_SUCCESS;
}

/* Next component at c->pos: its start and length; FALSE at the end of the path. */
static BOOLEAN ns_next_component(const ns_cursor *c, USHORT *start, USHORT *clen)
{
    USHORT i = c->pos;
    if (i >= c->len)
        return FALSE;
    *start = i;
    while (i < c->len && c->buf[i] != L'\\')
        i++;
    *clen = (USHORT)(i - *start);
    return TRUE;
}

/* Replace everything up to (not including) `rest` with the link target. */
static NTSTATUS ns_reparse(ns_cursor *c, const ob_ns_node *link, USHORT rest)
{
    size_t nlen = (size_t)link->target_len + (c->len - rest);
    if (nlen > UNICODE_STRING_MAX_CHARS)
        return STATUS_NAME_TOO_LONG;
    WCHAR *nb = malloc((nlen + 1) * sizeof(WCHAR));
    if (!nb)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(nb, link->target, (size_t)link->target_len * sizeof(WCHAR));
    memcpy(nb + link->target_len, c->buf + rest, (size_t)(c->len - rest) * sizeof(WCHAR));
    free(c->buf);
    c->buf = nb;
    c->len = (USHORT)nlen;
    c->pos = 1;
    if (c->len == 0 || c->buf[0] != L'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    return STATUS_SUCCESS;
}

/*
 * Resolve a path (lock held). Stops at:
 *  - the last component's node (found or not: *parent_out and the last component
 *    describe where it is or would be), or
 *  - an object that is not a directory, with the unparsed rest in *rest_out.
 * Symbolic links are followed in every component, and in the last one unless
 * open_link is set.
 */
typedef struct ns_walk {
    ob_ns_node *node;     /* what the path names, NULL when the last component is absent */
    ob_ns_node *parent;   /* directory holding (or that would hold) the last component */
    USHORT last, last_len;/* the last component in cur.buf */
    USHORT rest;          /* index of the unparsed rest when node is not a directory */
    ns_cursor cur;
} ns_walk;

static NTSTATUS ns_resolve(const WCHAR *path, USHORT len, BOOLEAN open_link, ns_walk *w)
{
    NTSTATUS st = ns_cursor_init(&w->cur, path, len);
    if (!NT_SUCCESS(st))
        return st;
    ULONG reparses = 0;
    ob_ns_node *dir = ns_root;
    w->node = ns_root;
    w->parent = NULL;
    w->last = w->last_len = 0;
    w->rest = w->cur.len;
    for (;;) {
        USHORT start, clen;
        if (!ns_next_component(&w->cur, &start, &clen)) {
            if (w->cur.len > 1 && w->cur.buf[w->cur.len - 1] == L'\\')
                return STATUS_OBJECT_NAME_INVALID; /* trailing backslash */
            return STATUS_SUCCESS;
        }
        if (clen == 0)
            return STATUS_OBJECT_NAME_INVALID;
        USHORT after = (USHORT)(start + clen);
        BOOLEAN is_last = after >= w->cur.len;
        ob_ns_node *n = ns_find_child(dir, w->cur.buf + start, clen, NULL);
        w->parent = dir;
        w->last = start;
        w->last_len = clen;
        if (!n) {
            w->node = NULL;
            return is_last ? STATUS_SUCCESS : STATUS_OBJECT_PATH_NOT_FOUND;
        }
        if (n->kind == OB_NS_SYMLINK && !(is_last && open_link)) {
            if (++reparses > OBP_MAX_REPARSE)
                return STATUS_OBJECT_NAME_NOT_FOUND;
            st = ns_reparse(&w->cur, n, after);
            if (!NT_SUCCESS(st))
                return st;
            dir = ns_root;
            w->node = ns_root;
            w->parent = NULL;
            continue;
        }
        w->node = n;
        if (is_last) {
            w->rest = w->cur.len;
            return STATUS_SUCCESS;
        }
        if (n->kind != OB_NS_DIRECTORY) {
            w->rest = after;
            return STATUS_SUCCESS;
        }
        dir = n;
        w->cur.pos = (USHORT)(after + 1);
    }
}

static void ns_walk_done(ns_walk *w)
{
    free(w->cur.buf);
    w->cur.buf = NULL;
}

static NTSTATUS ns_check_string(PCUNICODE_STRING s)
{
    if (!s || !s->Buffer || (s->Length & 1))
        return STATUS_OBJECT_NAME_INVALID;
    return STATUS_SUCCESS;
}

/* Create a node named by the last component of w (lock held, component absent). */
static NTSTATUS ns_add(ns_walk *w, ob_ns_kind kind, const char *type_name, PVOID object,
                       const WCHAR *target, USHORT target_len, PVOID creator, ob_ns_node **out)
{
    ULONG pos;
    ob_ns_node *n = calloc(1, sizeof(*n));
    if (!n)
        return STATUS_INSUFFICIENT_RESOURCES;
    n->name = ns_dup(w->cur.buf + w->last, w->last_len);
    n->name_len = w->last_len;
    n->kind = kind;
    n->type_name = type_name;
    n->object = object;
    n->creator = creator;
    if (target) {
        n->target = ns_dup(target, target_len);
        n->target_len = target_len;
    }
    if (!n->name || (target && !n->target)) {
        ns_free_node(n);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    ns_find_child(w->parent, n->name, n->name_len, &pos);
    NTSTATUS st = ns_link_child(w->parent, n, pos);
    if (!NT_SUCCESS(st)) {
        ns_free_node(n);
        return st;
    }
    if (out)
        *out = n;
    return STATUS_SUCCESS;
}

static NTSTATUS ns_insert(PCUNICODE_STRING path, ob_ns_kind kind, const char *type_name, PVOID object,
                          PCUNICODE_STRING target, PVOID creator)
{
    NTSTATUS st = ns_check_string(path);
    if (!NT_SUCCESS(st))
        return st;
    if (target && (!NT_SUCCESS(ns_check_string(target)) || target->Length == 0))
        return STATUS_INVALID_PARAMETER;
    KIRQL irql;
    ns_walk w;
    KeAcquireSpinLock(&ns_lock, &irql);
    st = ns_resolve(path->Buffer, path->Length / sizeof(WCHAR), TRUE, &w);
    if (NT_SUCCESS(st)) {
        if (w.node)
            st = (w.node == ns_root) ? STATUS_OBJECT_NAME_INVALID : STATUS_OBJECT_NAME_COLLISION;
        else
            st = ns_add(&w, kind, type_name, object, target ? target->Buffer : NULL,
                        target ? target->Length / sizeof(WCHAR) : 0, creator, NULL);
    }
    KeReleaseSpinLock(&ns_lock, irql);
    ns_walk_done(&w);
    return st;
}

/*
 * ObpNsInsertObject: give `object` the name `path`. The directories on the path must
 * exist (links among them are followed). STATUS_OBJECT_NAME_COLLISION when the name
 * is taken, STATUS_OBJECT_PATH_NOT_FOUND when a directory is missing.
 */
NTSTATUS ObpNsInsertObject(PCUNICODE_STRING path, ob_ns_kind kind, const char *type_name, PVOID object)
{
    return ns_insert(path, kind, type_name, object, NULL, NULL);
}

/* ObpNsCreateDirectory: create an (empty) object directory. */
NTSTATUS ObpNsCreateDirectory(PCUNICODE_STRING path)
{
    return ns_insert(path, OB_NS_DIRECTORY, "Directory", NULL, NULL, NULL);
}

/* ObpNsCreateSymbolicLink: create a link named `path` to `target` (resolved on use). */
NTSTATUS ObpNsCreateSymbolicLink(PCUNICODE_STRING path, PCUNICODE_STRING target, PVOID creator)
{
    return ns_insert(path, OB_NS_SYMLINK, "SymbolicLink", NULL, target, creator);
}

/*
 * ObpNsRemove: remove the name `path` if it names an object of `kind` (and, when
 * `object` is not NULL, that very object). A directory must be empty.
 */
NTSTATUS ObpNsRemove(PCUNICODE_STRING path, ob_ns_kind kind, PVOID object)
{
    NTSTATUS st = ns_check_string(path);
    if (!NT_SUCCESS(st))
        return st;
    KIRQL irql;
    ns_walk w;
    ob_ns_node *victim = NULL;
    KeAcquireSpinLock(&ns_lock, &irql);
    st = ns_resolve(path->Buffer, path->Length / sizeof(WCHAR), TRUE, &w);
    if (NT_SUCCESS(st)) {
        if (!w.node || w.rest != w.cur.len)
            st = STATUS_OBJECT_NAME_NOT_FOUND;
        else if (w.node == ns_root || w.node->kind != kind || (object && w.node->object != object))
            st = STATUS_OBJECT_TYPE_MISMATCH;
        else if (w.node->nchildren)
            st = STATUS_DIRECTORY_NOT_EMPTY;
        else {
            victim = w.node;
            ns_unlink_child(victim);
        }
    }
    KeReleaseSpinLock(&ns_lock, irql);
    ns_walk_done(&w);
    if (victim)
        ns_free_node(victim);
    return st;
}

/*
 * ObpNsLookup: resolve `path` to a named object, referenced for the caller
 * (ObDereferenceObject when done). Links are followed. When the path goes on past a
 * non-directory object, the unparsed rest (starting with '\') is copied into
 * res->Remaining (a malloc'ed buffer the caller frees with ObpNsLookupDone).
 * STATUS_OBJECT_NAME_NOT_FOUND / STATUS_OBJECT_PATH_NOT_FOUND as NT.
 */
NTSTATUS ObpNsLookup(PCUNICODE_STRING path, ob_ns_lookup *res)
{
    memset(res, 0, sizeof(*res));
    NTSTATUS st = ns_check_string(path);
    if (!NT_SUCCESS(st))
        return st;
    KIRQL irql;
    ns_walk w;
    KeAcquireSpinLock(&ns_lock, &irql);
    st = ns_resolve(path->Buffer, path->Length / sizeof(WCHAR), FALSE, &w);
    if (NT_SUCCESS(st) && !w.node)
        st = STATUS_OBJECT_NAME_NOT_FOUND;
    if (NT_SUCCESS(st)) {
        res->Kind = w.node->kind;
        res->TypeName = w.node == ns_root ? "Directory" : w.node->type_name;
        res->Object = w.node->object;
        if (res->Object)
            ObReferenceObject(res->Object);
        USHORT rlen = (USHORT)(w.cur.len - w.rest);
        if (rlen) {
            res->Remaining.Buffer = ns_dup(w.cur.buf + w.rest, rlen);
            if (!res->Remaining.Buffer) {
                st = STATUS_INSUFFICIENT_RESOURCES;
            } else {
                res->Remaining.Length = (USHORT)(rlen * sizeof(WCHAR));
                res->Remaining.MaximumLength = res->Remaining.Length;
            }
        }
        if (!NT_SUCCESS(st) && res->Object) {
            KeReleaseSpinLock(&ns_lock, irql);
            ObDereferenceObject(res->Object);
            KeAcquireSpinLock(&ns_lock, &irql);
            res->Object = NULL;
        }
    }
    KeReleaseSpinLock(&ns_lock, irql);
    ns_walk_done(&w);
    return st;
}

/* ObpNsLookupDone: free what ObpNsLookup allocated (not the object reference). */
void ObpNsLookupDone(ob_ns_lookup *res)
{
    free(res->Remaining.Buffer);
    res->Remaining.Buffer = NULL;
}

/* Collect the symbolic links whose creator address lies in [lo, hi) (lock held). */
static ULONG ns_count_links_from(const ob_ns_node *n, ULONG_PTR lo, ULONG_PTR hi)
{
    ULONG count = 0;
    if (n->kind == OB_NS_SYMLINK && (ULONG_PTR)n->creator >= lo && (ULONG_PTR)n->creator < hi)
        count++;
    for (ULONG i = 0; i < n->nchildren; i++)
        count += ns_count_links_from(n->children[i], lo, hi);
    return count;
}

/*
 * ObpNsCountLinksCreatedIn: how many symbolic links were created by code in the
 * address range [lo, hi) (a driver image) and still exist — the verifier's "unload
 * with symbolic links left" check.
 */
ULONG ObpNsCountLinksCreatedIn(ULONG_PTR lo, ULONG_PTR hi)
{
    KIRQL irql;
    KeAcquireSpinLock(&ns_lock, &irql);
    ULONG n = ns_root ? ns_count_links_from(ns_root, lo, hi) : 0;
    KeReleaseSpinLock(&ns_lock, irql);
    return n;
}

/* ---- listing ---------------------------------------------------------------------- */

typedef struct ns_text {
    char *s;
    size_t len, cap;
} ns_text;

static BOOLEAN ns_text_put(ns_text *t, const char *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        while (ncap < t->len + n + 1)
            ncap *= 2;
        char *ns = realloc(t->s, ncap);
        if (!ns)
            return FALSE;
        t->s = ns;
        t->cap = ncap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = 0;
    return TRUE;
}

/* Append UTF-16 as UTF-8 (unpaired surrogates become U+FFFD). */
static BOOLEAN ns_text_put16(ns_text *t, const WCHAR *s, USHORT len)
{
    for (USHORT i = 0; i < len; i++) {
        ULONG cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < len && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        char b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (char)(0xC0 | (cp >> 6));
            b[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (char)(0xE0 | (cp >> 12));
            b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            b[0] = (char)(0xF0 | (cp >> 18));
            b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        if (!ns_text_put(t, b, n))
            return FALSE;
    }
    return TRUE;
}

/* One listed object, copied out of the tree so callbacks run without the lock. */
typedef struct ns_item {
    size_t path, type, target; /* offsets into the text buffer; target (size_t)-1 if none */
} ns_item;

typedef struct ns_list {
    ns_text text;
    ns_item *items;
    size_t n, cap;
    BOOLEAN failed;
} ns_list;

static BOOLEAN ns_list_add(ns_list *l, const char *path, const ob_ns_node *c)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        ns_item *ni = realloc(l->items, ncap * sizeof(*ni));
        if (!ni)
            return FALSE;
        l->items = ni;
        l->cap = ncap;
    }
    ns_item *it = &l->items[l->n];
    it->path = l->text.len;
    BOOLEAN ok = ns_text_put(&l->text, path, strlen(path) + 1);
    it->type = l->text.len;
    ok = ok && ns_text_put(&l->text, c->type_name, strlen(c->type_name) + 1);
    it->target = (size_t)-1;
    if (ok && c->kind == OB_NS_SYMLINK) {
        it->target = l->text.len;
        ok = ns_text_put16(&l->text, c->target, c->target_len) && ns_text_put(&l->text, "", 1);
    }
    if (ok)
        l->n++;
    return ok;
}

/* Depth first; `prefix` is the UTF-8 path of `node` ("" for the root). Lock held. */
static void ns_collect(ns_list *l, const ob_ns_node *node, const char *prefix)
{
    for (ULONG i = 0; i < node->nchildren && !l->failed; i++) {
        const ob_ns_node *c = node->children[i];
        ns_text path = { 0 };
        if (!ns_text_put(&path, prefix, strlen(prefix)) || !ns_text_put(&path, "\\", 1) ||
            !ns_text_put16(&path, c->name, c->name_len) || !ns_list_add(l, path.s, c)) {
            l->failed = TRUE;
        } else if (c->kind == OB_NS_DIRECTORY) {
            ns_collect(l, c, path.s);
        }
        free(path.s);
    }
}

/* Items are NUL-separated strings in one text buffer, addressed by offset because
 * the buffer moves as it grows. */
static BOOLEAN ns_list_build(ns_list *l)
{
    memset(l, 0, sizeof(*l));
    if (!ns_root)
        return TRUE; /* not booted: nothing to list (and no kernel to lock with) */
    KIRQL irql;
    KeAcquireSpinLock(&ns_lock, &irql);
    ns_collect(l, ns_root, "");
    KeReleaseSpinLock(&ns_lock, irql);
    return !l->failed;
}

static void ns_list_free(ns_list *l)
{
    free(l->text.s);
    free(l->items);
}

void nthost_namespace_walk(nthost_object_fn *fn, void *ctx)
{
    ns_list l;
    if (ns_list_build(&l)) {
        for (size_t i = 0; i < l.n; i++) {
            nthost_object_info info = {
                .path = l.text.s + l.items[i].path,
                .type = l.text.s + l.items[i].type,
                .link_target = l.items[i].target == (size_t)-1 ? NULL : l.text.s + l.items[i].target,
            };
            fn(&info, ctx);
        }
    }
    ns_list_free(&l);
}

static void ns_snapshot_line(const nthost_object_info *obj, void *ctx)
{
    ns_text *t = ctx;
    BOOLEAN ok = ns_text_put(t, obj->path, strlen(obj->path)) && ns_text_put(t, " ", 1) &&
                 ns_text_put(t, obj->type, strlen(obj->type));
    if (ok && obj->link_target)
        ok = ns_text_put(t, " -> ", 4) && ns_text_put(t, obj->link_target, strlen(obj->link_target));
    if (ok)
        ns_text_put(t, "\n", 1);
}

char *nthost_namespace_snapshot(void)
{
    ns_text t = { 0 };
    if (!ns_text_put(&t, "", 0))
        return NULL;
    nthost_namespace_walk(ns_snapshot_line, &t);
    return t.s;
}

/* ---- lifetime --------------------------------------------------------------------- */

static NTSTATUS ns_make_dir(const WCHAR *path)
{
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, path);
    return ObpNsCreateDirectory(&s);
}

static NTSTATUS ns_make_link(const WCHAR *path, const WCHAR *target)
{
    UNICODE_STRING s, t;
    RtlInitUnicodeString(&s, path);
    RtlInitUnicodeString(&t, target);
    return ObpNsCreateSymbolicLink(&s, &t, NULL);
}

/*
 * \??\GLOBALROOT: NT's link with an empty target, so that "\\.\GLOBALROOT\Device\X"
 * reaches \Device\X from Win32 without a DOS name. Drivers cannot create such a
 * link (ns_insert refuses empty targets), so it is made here directly.
 */
static NTSTATUS ns_make_root_link(void)
{
    static const WCHAR name[] = L"\\??\\GLOBALROOT";
    KIRQL irql;
    ns_walk w;
    KeAcquireSpinLock(&ns_lock, &irql);
    NTSTATUS st = ns_resolve(name, (USHORT)(sizeof(name) / sizeof(WCHAR) - 1), TRUE, &w);
    if (NT_SUCCESS(st))
        st = w.node ? STATUS_OBJECT_NAME_COLLISION
                    : ns_add(&w, OB_NS_SYMLINK, "SymbolicLink", NULL, name, 0, NULL, NULL);
    KeReleaseSpinLock(&ns_lock, irql);
    ns_walk_done(&w);
    return st;
}

/*
 * ObpNsInitialize: build the boot namespace: \Device, \Driver, \?? and the links
 * \DosDevices -> \?? and \GLOBAL?? -> \?? (one session: the global and the
 * per-session DOS device views are the same directory), and \??\GLOBALROOT -> "".
 */
NTSTATUS ObpNsInitialize(void)
{
    KeInitializeSpinLock(&ns_lock);
    ns_root = calloc(1, sizeof(*ns_root));
    if (!ns_root)
        return STATUS_INSUFFICIENT_RESOURCES;
    ns_root->kind = OB_NS_DIRECTORY;
    ns_root->type_name = "Directory";
    NTSTATUS st = ns_make_dir(L"\\Device");
    if (NT_SUCCESS(st))
        st = ns_make_dir(L"\\Driver");
    if (NT_SUCCESS(st))
        st = ns_make_dir(L"\\??");
    if (NT_SUCCESS(st))
        st = ns_make_link(L"\\DosDevices", L"\\??");
    if (NT_SUCCESS(st))
        st = ns_make_link(L"\\GLOBAL??", L"\\??");
    if (NT_SUCCESS(st))
        st = ns_make_root_link();
    if (!NT_SUCCESS(st))
        ObpNsTeardown();
    return st;
}

/* ObpNsTeardown: free the whole tree (after every owner removed its objects). */
void ObpNsTeardown(void)
{
    if (ns_root)
        ns_free_node(ns_root);
    ns_root = NULL;
}
