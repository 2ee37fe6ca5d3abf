/* Gate v4 WebSocket update frames read in one pass, for the channels whose `result` is a
   flat object or a list of them (spot.orders, futures.orders, the user trades,
   spot.order_book_update): the envelope is checked and each result item becomes the
   channel's msgspec Struct, built with the values msgspec's lax decode
   (ws_common.result_decoder) gives it, or, for the order channels, straight the codec's
   Order (section "orders built here").

   The Python path decodes such a frame twice (the envelope with `result` kept raw, then the
   result into the Struct); here the bytes are walked once.

   This reader only accepts what it fully understands and returns None for anything else;
   the caller then decodes the frame with msgspec as before, which accepts or rejects it
   exactly as it always did, so the fast path adds no leniency. Not understood: a channel
   without a schema or `result` before `channel`, an event other than update/all, a non-null
   `error`, a duplicate known key, any backslash escape, control or non-ASCII byte inside a
   string, nesting deeper than 32, a number field given in another form than
   -?(0|[1-9][0-9]*)(.[0-9]+)? (as a JSON number or as a string), integers of more than 18
   digits, a book level that is not a [price, size] pair, and any field value of another
   JSON type than its Struct field takes without a conversion this reader does not make
   (e.g. "12" for an int field). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_FIELDS 64
#define MAX_CHANNELS 8
#define TABLE 128 /* open-addressing slots per schema (more than twice MAX_FIELDS) */
#define MAX_DEPTH 32

/* K_LEVELS: list[tuple[float, float]], book levels as [price, size] pairs, read into a Levels
   (a read-only sequence equal to that list; see "book levels" below). */
enum { K_FLOAT, K_OPT_FLOAT, K_STR, K_STR_OR_INT, K_INT, K_BOOL, K_LEVELS };

typedef struct {
    const char *name; /* the field's JSON key (borrowed from `names`, kept alive below) */
    Py_ssize_t len;
    int kind;
    PyObject *fallback; /* the default value, or NULL: required (K_LEVELS: a new empty list) */
    PyObject *last;     /* K_STR/K_STR_OR_INT: the string this field last read, or NULL */
} Field;

typedef struct Builder Builder; /* an order channel's Order rules: "orders built here" below */

typedef struct {
    char channel[64];
    Py_ssize_t channel_len;
    int single; /* the result is one object, not a list of them */
    PyObject *cls;
    PyObject *names; /* tuple of the keys as bytes */
    PyObject *defaults;
    int n;
    Field fields[MAX_FIELDS];
    uint8_t table[TABLE]; /* field index + 1, 0 = empty */
    Builder *builder;     /* NULL: each item becomes a `cls`; else the item's Order */
} Schema;

static int builder_compile(Schema *s, PyObject *spec);
static void builder_free(Builder *b);

typedef struct {
    int count;
    Schema schemas[MAX_CHANNELS];
} Reader;

/* Cheap on purpose (it runs for every key of every item): the length and three bytes;
   collisions are resolved by probing and a full compare. */
static inline uint32_t key_hash(const char *p, Py_ssize_t n) {
    if (n == 0)
        return 0;
    return (uint32_t)n * 7u + (uint8_t)p[0] * 31u + (uint8_t)p[n - 1] * 131u + (uint8_t)p[n / 2] * 17u;
}

static int field_of(const Schema *s, const char *key, Py_ssize_t len) {
    uint32_t slot = key_hash(key, len) & (TABLE - 1);
    for (;;) {
        int i = s->table[slot];
        if (i == 0)
            return -1;
        const Field *f = &s->fields[i - 1];
        if (f->len == len && memcmp(f->name, key, (size_t)len) == 0)
            return i - 1;
        slot = (slot + 1) & (TABLE - 1);
    }
}

/* ---- tokens ------------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p, *end;
} Cursor;

static inline void skip_ws(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static inline int expect(Cursor *c, uint8_t ch) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch)
        return -1;
    c->p++;
    return 0;
}

/* 1 for the bytes a string may hold as they are: printable ASCII but '"' and backslash. */
static uint8_t PLAIN[256];

/* A string of printable ASCII without escapes; its content (quotes excluded). */
static inline int read_string(Cursor *c, const uint8_t **start, Py_ssize_t *len) {
    if (c->p >= c->end || *c->p != '"')
        return -1;
    const uint8_t *p = ++c->p, *end = c->end;
    /* Eight bytes at a time while none of them can end the string or be refused (a control
       byte, non-ASCII, '"' or a backslash: the classic has-zero/has-less word tests, which
       never miss one); the byte loop then finds exactly where and what it is. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w, quote, slash;
        memcpy(&w, p, 8);
        quote = w ^ (ones * '"');
        slash = w ^ (ones * '\\');
        if (((w - ones * 0x20) | w | ((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs)
            break;
        p += 8;
    }
    while (p < end && PLAIN[*p])
        p++;
    if (p >= end || *p != '"')
        return -1;
    *start = c->p;
    *len = p - c->p;
    c->p = p + 1;
    return 0;
}

/* A JSON number token; `plain` says whether it is -?(0|[1-9][0-9]*)(.[0-9]+)? exactly. */
static int read_number(Cursor *c, const uint8_t **start, Py_ssize_t *len, int *plain) {
    const uint8_t *p = c->p, *end = c->end;
    *start = p;
    *plain = 1;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *plain = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    *len = p - *start;
    c->p = p;
    return 0;
}

static inline int literal(Cursor *c, const char *word, Py_ssize_t n) {
    if (c->end - c->p < n || memcmp(c->p, word, (size_t)n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* Any JSON value this reader understands, skipped. */
static int skip_value(Cursor *c, int depth) {
    const uint8_t *s;
    Py_ssize_t n;
    int plain;
    skip_ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH)
        return -1;
    switch (*c->p) {
    case '"':
        return read_string(c, &s, &n);
    case 't':
        return literal(c, "true", 4);
    case 'f':
        return literal(c, "false", 5);
    case 'n':
        return literal(c, "null", 4);
    case '{':
    case '[': {
        uint8_t close = *c->p == '{' ? '}' : ']';
        int object = close == '}';
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return 0;
        }
        for (;;) {
            if (object) {
                skip_ws(c);
                if (read_string(c, &s, &n) < 0 || expect(c, ':') < 0)
                    return -1;
            }
            if (skip_value(c, depth + 1) < 0)
                return -1;
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            return expect(c, close);
        }
    }
    default:
        return read_number(c, &s, &n, &plain);
    }
}

/* ---- values ------------------------------------------------------------------------------ */

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* -?(0|[1-9][0-9]*)(.[0-9]+)? read from *pp up to the first byte that cannot continue it
   (left in *pp), as msgspec reads it into a float: correctly rounded (one exact division
   when the digits fit 2**53 and there are at most 22 decimals, else CPython's parser); an
   integer keeps no sign on zero ("-0" -> 0.0), a fraction does ("-0.0"). One pass: the
   digits are validated and accumulated together. */
static int scan_decimal(const uint8_t **pp, const uint8_t *end, double *out) {
    const uint8_t *p = *pp;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    const uint8_t *int_start = p;
    uint64_t mantissa = 0;
    int significant = 0; /* digits from the first non-zero one on */
    if (p >= end || (unsigned)(*p - '0') > 9)
        return -1;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (significant < 19)
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            significant++;
            p++;
        }
    }
    Py_ssize_t int_digits = p - int_start, frac_digits = 0;
    if (p < end && *p == '.') {
        const uint8_t *frac_start = ++p;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (mantissa || *p != '0') {
                if (significant < 19)
                    mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                significant++;
            }
            p++;
        }
        frac_digits = p - frac_start;
        if (frac_digits == 0)
            return -1;
    }
    if (frac_digits == 0 && int_digits > 18)
        return -1;
    double value;
    if (significant <= 19 && mantissa <= (1ULL << 53) && frac_digits <= 22) {
        value = frac_digits ? (double)mantissa / POW10[frac_digits] : (double)mantissa;
    } else {
        char buf[96];
        Py_ssize_t n = p - int_start;
        if (n >= (Py_ssize_t)sizeof(buf))
            return -1;
        memcpy(buf, int_start, (size_t)n);
        buf[n] = '\0';
        value = PyOS_string_to_double(buf, NULL, NULL);
        if (value == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return -1;
        }
    }
    if (frac_digits == 0 && value == 0.0)
        neg = 0;
    *out = neg ? -value : value;
    *pp = p;
    return 0;
}

/* A float field's value: the decimal read in place, quoted or bare. A quoted one must end
   at its quote, a bare one where a JSON number may end (not in an exponent or more digits). */
static inline int read_float(Cursor *c, double *x) {
    skip_ws(c);
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        if (scan_decimal(&c->p, c->end, x) < 0 || c->p >= c->end || *c->p != '"')
            return -1;
        c->p++;
        return 0;
    }
    if (scan_decimal(&c->p, c->end, x) < 0 ||
        (c->p < c->end && (*c->p == 'e' || *c->p == 'E' || (unsigned)(*c->p - '0') <= 9)))
        return -1;
    return 0;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits. */
static PyObject *parse_int(const uint8_t *s, Py_ssize_t n) {
    const uint8_t *p = s, *end = s + n;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    Py_ssize_t digits = end - p;
    if (digits < 1 || digits > 18 || (digits > 1 && *p == '0'))
        return NULL;
    long long v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return NULL;
        v = v * 10 + (*p - '0');
    }
    return PyLong_FromLongLong(neg ? -v : v);
}

/* ---- book levels ------------------------------------------------------------------------- */

/* A book side's [[price, size], ...] as one read-only sequence of (price, size) pairs: the
   doubles sit in the object itself, so a 50-level frame costs one allocation instead of 50
   tuples and 100 floats (built here, freed after the ladder applied them: most of the frame
   read's time). It reads as the list of float tuples msgspec gives (len, index, slice,
   iteration, ==, repr all go through that list), and exports its doubles as an (n, 2)
   buffer, which the compiled ladder (cexarb.exchange._ladder) applies without making a
   tuple. Not hashable, like the list it stands for. */
typedef struct {
    PyObject_VAR_HEAD          /* ob_size: the number of levels */
    Py_ssize_t shape[2];       /* the buffer's (n, 2) */
    Py_ssize_t strides[2];     /* and its (16, 8) */
    double pairs[];            /* price, size, price, size, ... */
} Levels;

static PyTypeObject LevelsType;

static PyObject *levels_new(const double *pairs, Py_ssize_t n) {
    Levels *self = PyObject_NewVar(Levels, &LevelsType, n);
    if (self == NULL)
        return NULL;
    self->shape[0] = n;
    self->shape[1] = 2;
    self->strides[0] = 2 * sizeof(double);
    self->strides[1] = sizeof(double);
    memcpy(self->pairs, pairs, (size_t)n * 2 * sizeof(double));
    return (PyObject *)self;
}

static PyObject *levels_pair(Levels *self, Py_ssize_t i) {
    PyObject *price = PyFloat_FromDouble(self->pairs[2 * i]), *size = NULL, *pair = NULL;
    if (price == NULL || (size = PyFloat_FromDouble(self->pairs[2 * i + 1])) == NULL ||
        (pair = PyTuple_New(2)) == NULL) {
        Py_XDECREF(price);
        Py_XDECREF(size);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, price);
    PyTuple_SET_ITEM(pair, 1, size);
    return pair;
}

/* The list of float tuples these levels stand for (what msgspec would have built). */
static PyObject *levels_list(Levels *self) {
    PyObject *list = PyList_New(Py_SIZE(self));
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        PyObject *pair = levels_pair(self, i);
        if (pair == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, pair);
    }
    return list;
}

static Py_ssize_t Levels_len(Levels *self) { return Py_SIZE(self); }

static PyObject *Levels_item(Levels *self, Py_ssize_t i) {
    if (i < 0 || i >= Py_SIZE(self)) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    return levels_pair(self, i);
}

static PyObject *Levels_subscript(Levels *self, PyObject *key) {
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        return Levels_item(self, i < 0 ? i + Py_SIZE(self) : i);
    }
    PyObject *list = levels_list(self);
    if (list == NULL)
        return NULL;
    PyObject *out = PyObject_GetItem(list, key);
    Py_DECREF(list);
    return out;
}

static PyObject *Levels_richcompare(Levels *self, PyObject *other, int op) {
    PyObject *list = levels_list(self);
    if (list == NULL)
        return NULL;
    PyObject *out = PyObject_RichCompare(list, other, op);
    Py_DECREF(list);
    return out;
}

static PyObject *Levels_repr(Levels *self) {
    PyObject *list = levels_list(self);
    if (list == NULL)
        return NULL;
    PyObject *out = PyObject_Repr(list);
    Py_DECREF(list);
    return out;
}

static int Levels_getbuffer(Levels *self, Py_buffer *view, int flags) {
    if (flags & PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "book levels are read-only");
        view->obj = NULL;
        return -1;
    }
    int nd = (flags & PyBUF_ND) == PyBUF_ND;
    view->obj = Py_NewRef(self);
    view->buf = self->pairs;
    view->len = Py_SIZE(self) * 2 * (Py_ssize_t)sizeof(double);
    view->readonly = 1;
    view->itemsize = sizeof(double);
    view->format = (flags & PyBUF_FORMAT) ? "d" : NULL;
    view->ndim = nd ? 2 : 1;
    view->shape = nd ? self->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? self->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}

static PySequenceMethods Levels_as_sequence = {
    .sq_length = (lenfunc)Levels_len,
    .sq_item = (ssizeargfunc)Levels_item,
};

static PyMappingMethods Levels_as_mapping = {
    .mp_length = (lenfunc)Levels_len,
    .mp_subscript = (binaryfunc)Levels_subscript,
};

static PyBufferProcs Levels_as_buffer = {
    .bf_getbuffer = (getbufferproc)Levels_getbuffer,
};

static PyTypeObject LevelsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cexarb.venues.gateio._gatewire.Levels",
    .tp_doc = PyDoc_STR("A book side's (price, size) levels as read off the wire: a read-only sequence of\n"
                        "float pairs, equal to the list of them, exporting an (n, 2) buffer of doubles."),
    .tp_basicsize = offsetof(Levels, pairs),
    .tp_itemsize = 2 * sizeof(double),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_repr = (reprfunc)Levels_repr,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_richcompare = (richcmpfunc)Levels_richcompare,
    .tp_as_sequence = &Levels_as_sequence,
    .tp_as_mapping = &Levels_as_mapping,
    .tp_as_buffer = &Levels_as_buffer,
};

/* Levels a frame holds without a heap buffer (a 100-level snapshot side is the most Gate sends). */
#define LEVELS_ON_STACK 128

/* [[price, size], ...] -> Levels; each number as a float field reads it. */
static PyObject *read_levels(Cursor *c) {
    double stack[2 * LEVELS_ON_STACK], *pairs = stack;
    Py_ssize_t n = 0, cap = LEVELS_ON_STACK;
    PyObject *out = NULL;
    if (c->p >= c->end || *c->p != '[')
        return NULL;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return levels_new(pairs, 0);
    }
    for (;;) {
        if (n == cap) {
            double *grown = pairs == stack ? PyMem_Malloc((size_t)cap * 4 * sizeof(double))
                                           : PyMem_Realloc(pairs, (size_t)cap * 4 * sizeof(double));
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            if (pairs == stack)
                memcpy(grown, stack, sizeof(stack));
            pairs = grown;
            cap *= 2;
        }
        if (expect(c, '[') < 0 || read_float(c, &pairs[2 * n]) < 0 || expect(c, ',') < 0 ||
            read_float(c, &pairs[2 * n + 1]) < 0 || expect(c, ']') < 0)
            goto done;
        n++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, ']') == 0)
            out = levels_new(pairs, n);
        goto done;
    }
done:
    if (pairs != stack)
        PyMem_Free(pairs);
    return out;
}

/* ---- fields ------------------------------------------------------------------------------ */

/* The value of one field: a new reference, NULL with no error (not understood) or NULL
   with an error set. */
/* The field's text as a str: the one it read last when the bytes are the same. Most string
   fields repeat from frame to frame (pair, side, type, tif, status, fee currency): reusing
   the object saves its allocation, and its cached hash saves the codec's dict look-ups a
   rehash. A cached str is immutable and equal to a fresh one, so nothing else can tell. */
static PyObject *read_text(Field *f, const uint8_t *s, Py_ssize_t n) {
    PyObject *last = f->last;
    if (last != NULL && PyUnicode_GET_LENGTH(last) == n && memcmp(PyUnicode_1BYTE_DATA(last), s, (size_t)n) == 0)
        return Py_NewRef(last);
    PyObject *text = PyUnicode_DecodeASCII((const char *)s, n, NULL);
    if (text != NULL)
        Py_XSETREF(f->last, Py_NewRef(text));
    return text;
}

static PyObject *read_field(Cursor *c, Field *f) {
    int kind = f->kind;
    const uint8_t *s;
    Py_ssize_t n;
    int plain;
    double x;
    skip_ws(c);
    if (c->p >= c->end)
        return NULL;
    uint8_t first = *c->p;
    switch (kind) {
    case K_OPT_FLOAT:
        if (first == 'n')
            return literal(c, "null", 4) < 0 ? NULL : Py_NewRef(Py_None);
        /* fall through */
    case K_FLOAT:
        return read_float(c, &x) < 0 ? NULL : PyFloat_FromDouble(x);
    case K_STR:
    case K_STR_OR_INT:
        if (first == '"') {
            if (read_string(c, &s, &n) < 0)
                return NULL;
            return read_text(f, s, n);
        }
        if (kind == K_STR)
            return NULL;
        /* fall through */
    case K_INT:
        if (read_number(c, &s, &n, &plain) < 0 || !plain)
            return NULL;
        return parse_int(s, n);
    case K_LEVELS:
        return read_levels(c);
    case K_BOOL:
        if (first == 't')
            return literal(c, "true", 4) < 0 ? NULL : Py_NewRef(Py_True);
        if (first == 'f')
            return literal(c, "false", 5) < 0 ? NULL : Py_NewRef(Py_False);
        return NULL;
    default:
        return NULL;
    }
}

static PyObject *read_order_item(Cursor *c, Schema *schema);

/* Reads the value of `schema` field `i` at the cursor into `ctx` (its reader's own slots);
   -1 when it cannot (a duplicate key included). */
typedef int (*FieldReader)(Cursor *c, Schema *schema, int i, void *ctx);

/* One flat JSON object: each key the schema names goes to `on_field`, the others are skipped.
   0 at its closing brace, -1 when the object is not one this reader takes. */
static int walk_object(Cursor *c, Schema *schema, FieldReader on_field, void *ctx) {
    const uint8_t *key;
    Py_ssize_t key_len;
    if (expect(c, '{') < 0)
        return -1;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        skip_ws(c);
        if (read_string(c, &key, &key_len) < 0 || expect(c, ':') < 0)
            return -1;
        int i = field_of(schema, (const char *)key, key_len);
        if (i < 0 ? skip_value(c, 1) < 0 : on_field(c, schema, i, ctx) < 0)
            return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        return expect(c, '}');
    }
}

static int read_plain_field(Cursor *c, Schema *schema, int i, void *ctx) {
    PyObject **values = ctx;
    if (values[i] != NULL)
        return -1; /* a duplicate key */
    values[i] = read_field(c, &schema->fields[i]);
    return values[i] == NULL ? -1 : 0;
}

/* One result item -> a new Struct (or its Order, with a builder), or NULL (not understood
   when no error is set). */
static PyObject *read_item(Cursor *c, Schema *schema) {
    if (schema->builder != NULL)
        return read_order_item(c, schema);
    PyObject *values[MAX_FIELDS] = {NULL};
    PyObject *out = NULL;
    if (walk_object(c, schema, read_plain_field, values) < 0)
        goto done;
    for (int i = 0; i < schema->n; i++) {
        if (values[i] == NULL) {
            if (schema->fields[i].fallback == NULL)
                goto done; /* a required field is missing */
            values[i] = schema->fields[i].kind == K_LEVELS ? PyList_New(0) : Py_NewRef(schema->fields[i].fallback);
            if (values[i] == NULL)
                goto done;
        }
    }
    out = PyObject_Vectorcall(schema->cls, values, (size_t)schema->n, NULL);
done:
    for (int i = 0; i < schema->n; i++)
        Py_XDECREF(values[i]);
    return out;
}

static PyObject *read_items(Cursor *c, Schema *schema) {
    if (expect(c, '[') < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return list;
    }
    for (;;) {
        PyObject *item = read_item(c, schema);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, ']') < 0) {
            Py_DECREF(list);
            return NULL;
        }
        return list;
    }
}

/* ---- the frame --------------------------------------------------------------------------- */

#define KEY_IS(word) (key_len == (Py_ssize_t)sizeof(word) - 1 && memcmp(key, word, sizeof(word) - 1) == 0)

static PyObject *read_frame(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "read(frame, reader)");
        return NULL;
    }
    Reader *reader = PyCapsule_GetPointer(args[1], "cexarb.gatewire.Reader");
    if (reader == NULL)
        return NULL;
    PyObject *frame = args[0];
    Cursor c;
    if (PyBytes_CheckExact(frame)) {
        c.p = (const uint8_t *)PyBytes_AS_STRING(frame);
        c.end = c.p + PyBytes_GET_SIZE(frame);
    } else if (PyUnicode_CheckExact(frame) && PyUnicode_IS_COMPACT_ASCII(frame)) {
        c.p = (const uint8_t *)PyUnicode_DATA(frame);
        c.end = c.p + PyUnicode_GET_LENGTH(frame);
    } else {
        Py_RETURN_NONE;
    }
    int index = -1, seen_event = 0, seen_time = 0, seen_error = 0, seen_type = 0;
    PyObject *items = NULL;
    const uint8_t *key, *s;
    Py_ssize_t key_len, n;
    int plain;
    if (expect(&c, '{') < 0)
        Py_RETURN_NONE;
    for (;;) {
        skip_ws(&c);
        if (read_string(&c, &key, &key_len) < 0 || expect(&c, ':') < 0)
            goto not_ours;
        skip_ws(&c);
        if (KEY_IS("channel")) {
            if (index >= 0 || read_string(&c, &s, &n) < 0)
                goto not_ours;
            for (int i = 0; i < reader->count && index < 0; i++)
                if (reader->schemas[i].channel_len == n && memcmp(reader->schemas[i].channel, s, (size_t)n) == 0)
                    index = i;
            if (index < 0)
                goto not_ours;
        } else if (KEY_IS("event")) {
            if (seen_event++ || read_string(&c, &s, &n) < 0 ||
                !((n == 6 && memcmp(s, "update", 6) == 0) || (n == 3 && memcmp(s, "all", 3) == 0)))
                goto not_ours;
        } else if (KEY_IS("time_ms")) {
            if (seen_time++ || read_number(&c, &s, &n, &plain) < 0 || !plain)
                goto not_ours;
            PyObject *check = parse_int(s, n); /* the envelope's time_ms is a strict int */
            if (check == NULL)
                goto not_ours;
            Py_DECREF(check);
        } else if (KEY_IS("error")) {
            if (seen_error++ || literal(&c, "null", 4) < 0)
                goto not_ours;
        } else if (KEY_IS("type")) {
            if (seen_type++ || read_string(&c, &s, &n) < 0)
                goto not_ours;
        } else if (KEY_IS("result")) {
            if (index < 0 || items != NULL)
                goto not_ours;
            items = reader->schemas[index].single ? read_item(&c, &reader->schemas[index])
                                                  : read_items(&c, &reader->schemas[index]);
            if (items == NULL)
                goto not_ours;
        } else if (skip_value(&c, 1) < 0) {
            goto not_ours;
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (expect(&c, '}') < 0)
            goto not_ours;
        break;
    }
    skip_ws(&c);
    if (c.p != c.end || items == NULL || !seen_event)
        goto not_ours;
    return Py_BuildValue("(iN)", index, items);
not_ours:
    Py_XDECREF(items);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* ---- schemas ----------------------------------------------------------------------------- */

static void reader_free(PyObject *capsule) {
    Reader *reader = PyCapsule_GetPointer(capsule, "cexarb.gatewire.Reader");
    if (reader == NULL)
        return;
    for (int i = 0; i < reader->count; i++) {
        Py_XDECREF(reader->schemas[i].cls);
        Py_XDECREF(reader->schemas[i].names);
        Py_XDECREF(reader->schemas[i].defaults);
        for (int j = 0; j < reader->schemas[i].n; j++)
            Py_XDECREF(reader->schemas[i].fields[j].last);
        builder_free(reader->schemas[i].builder);
    }
    PyMem_Free(reader);
}

/* compile(((channel: bytes, cls, keys: tuple[bytes], kinds: bytes, defaults: tuple,
   single: bool[, build]), ...)): defaults[i] is the field's default, or the `cls` itself for a
   required field; `single` when the result is one object rather than a list; `build`, when
   given and not None, makes each item an Order (see builder_compile). */
static PyObject *compile_reader(PyObject *Py_UNUSED(module), PyObject *specs) {
    if (!PyTuple_Check(specs) || PyTuple_GET_SIZE(specs) > MAX_CHANNELS) {
        PyErr_SetString(PyExc_ValueError, "a tuple of at most 8 channel specs");
        return NULL;
    }
    Reader *reader = PyMem_Calloc(1, sizeof(Reader));
    if (reader == NULL)
        return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(reader, "cexarb.gatewire.Reader", reader_free);
    if (capsule == NULL) {
        PyMem_Free(reader);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(specs); k++) {
        PyObject *channel, *cls, *names, *kinds, *defaults, *build = Py_None;
        int single;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(specs, k), "SOO!SO!p|O", &channel, &cls, &PyTuple_Type, &names,
                              &kinds, &PyTuple_Type, &defaults, &single, &build))
            goto fail;
        Schema *s = &reader->schemas[k];
        Py_ssize_t n = PyTuple_GET_SIZE(names);
        if (PyBytes_GET_SIZE(channel) >= (Py_ssize_t)sizeof(s->channel) || n > MAX_FIELDS ||
            PyBytes_GET_SIZE(kinds) != n || PyTuple_GET_SIZE(defaults) != n) {
            PyErr_SetString(PyExc_ValueError, "channel name, field count or lengths out of range");
            goto fail;
        }
        reader->count = (int)k + 1;
        memcpy(s->channel, PyBytes_AS_STRING(channel), (size_t)PyBytes_GET_SIZE(channel));
        s->channel_len = PyBytes_GET_SIZE(channel);
        s->cls = Py_NewRef(cls);
        s->names = Py_NewRef(names);
        s->defaults = Py_NewRef(defaults);
        s->n = (int)n;
        s->single = single;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *name = PyTuple_GET_ITEM(names, i), *fallback = PyTuple_GET_ITEM(defaults, i);
            int kind = (uint8_t)PyBytes_AS_STRING(kinds)[i];
            if (!PyBytes_Check(name) || kind > K_LEVELS) {
                PyErr_SetString(PyExc_ValueError, "keys are bytes, kinds 0..6");
                goto fail;
            }
            Field *f = &s->fields[i];
            f->name = PyBytes_AS_STRING(name);
            f->len = PyBytes_GET_SIZE(name);
            f->kind = kind;
            f->fallback = fallback == cls ? NULL : fallback;
            if (field_of(s, f->name, f->len) >= 0) {
                PyErr_SetString(PyExc_ValueError, "a key declared twice");
                goto fail;
            }
            uint32_t slot = key_hash(f->name, f->len) & (TABLE - 1);
            while (s->table[slot])
                slot = (slot + 1) & (TABLE - 1);
            s->table[slot] = (uint8_t)(i + 1);
        }
        if (build != Py_None && builder_compile(s, build) < 0)
            goto fail;
    }
    return capsule;
fail:
    Py_DECREF(capsule);
    return NULL;
}

/* ---- orders built here ------------------------------------------------------------------- */

/* The order channels' items made straight into cexarb Orders: the rules of
   codec.order_from_msg (spot) and codec.futures_order_from_msg (futures) on the values the
   item's Struct would hold, without the Struct and the codec call. Same Order, field for
   field and bit for bit (tests/venues/gateio/test_gate_wire_orders.py compares the two on
   random and edge-case frames): a rule changed there must change here.

   Whatever those codecs would raise on (a side other than buy/sell, a pair from_venue
   refuses) and a futures contract whose size is not yet in the stream's cache decline the
   frame, so the Python path decodes it and behaves exactly as it always did.

   The item is walked as read_item walks it and accepts exactly what read_item accepts, but
   its float fields are kept as doubles (most are only read as numbers: no float objects
   for them) and an integer id as its text (str() of it is what the Order holds).

   The arithmetic is the codecs' own, in doubles as CPython's floats are: no expression
   here feeds a product into a sum (round12 stores its product first), so no compiler can
   fuse one (FMA) and round it differently. Of libm only fabs, floor and trunc. */

enum { BUILD_SPOT = 1, BUILD_FUTURES = 2 };

/* The fields each codec reads, by slot; their value index in the item comes from the
   Struct's keys at compile time. */
enum {
    S_ID, S_TEXT, S_PAIR, S_TYPE, S_SIDE, S_AMOUNT, S_PRICE, S_TIF, S_LEFT, S_FILLED_AMOUNT,
    S_FILLED_TOTAL, S_AVG, S_FEE, S_FEE_CURRENCY, S_GT_FEE, S_STATUS, S_FINISH_AS, S_EVENT,
    S_CREATE, S_CREATE_MS, S_UPDATE, S_UPDATE_MS, S_SLOTS
};
enum {
    F_CONTRACT, F_SIZE, F_ID, F_LEFT, F_PRICE, F_FILL_PRICE, F_TIF, F_TEXT, F_REDUCE_ONLY, F_STATUS,
    F_FINISH_AS, F_CREATE, F_CREATE_MS, F_UPDATE, F_FINISH, F_FINISH_MS, F_UPDATE_ID, F_SLOTS
};
#define MAX_SLOTS S_SLOTS

typedef struct {
    const char *key;
    int kind;
} Slot;

static const Slot SPOT_SLOTS[S_SLOTS] = {
    {"id", K_STR_OR_INT}, {"text", K_STR}, {"currency_pair", K_STR}, {"type", K_STR},
    {"side", K_STR}, {"amount", K_FLOAT}, {"price", K_FLOAT}, {"time_in_force", K_STR},
    {"left", K_OPT_FLOAT}, {"filled_amount", K_OPT_FLOAT}, {"filled_total", K_FLOAT},
    {"avg_deal_price", K_FLOAT}, {"fee", K_FLOAT}, {"fee_currency", K_STR}, {"gt_fee", K_FLOAT},
    {"status", K_STR}, {"finish_as", K_STR}, {"event", K_STR}, {"create_time", K_FLOAT},
    {"create_time_ms", K_FLOAT}, {"update_time", K_FLOAT}, {"update_time_ms", K_FLOAT},
};
static const Slot FUTURES_SLOTS[F_SLOTS] = {
    {"contract", K_STR}, {"size", K_FLOAT}, {"id", K_STR_OR_INT}, {"left", K_FLOAT},
    {"price", K_FLOAT}, {"fill_price", K_FLOAT}, {"tif", K_STR}, {"text", K_STR},
    {"is_reduce_only", K_BOOL}, {"status", K_STR}, {"finish_as", K_STR}, {"create_time", K_FLOAT},
    {"create_time_ms", K_FLOAT}, {"update_time", K_FLOAT}, {"finish_time", K_FLOAT},
    {"finish_time_ms", K_FLOAT}, {"update_id", K_INT},
};

struct Builder {
    int mode;
    int at[MAX_SLOTS]; /* slot -> value index */
    PyObject *order_cls;
    PyObject *buy, *sell;
    PyObject *st_new, *st_partially_filled, *st_filled, *st_canceled, *st_partially_canceled, *st_rejected;
    PyObject *gtc, *ioc, *fok, *post_only;
    PyObject *limit, *market, *limit_maker;
    PyObject *known_pairs, *from_venue, *sizes;
    PyObject *empty, *gt, *zero;
};

#define EPS 1e-12 /* codec._EPS */

static void builder_free(Builder *b) {
    if (b == NULL)
        return;
    PyObject **refs[] = {&b->order_cls, &b->buy, &b->sell, &b->st_new, &b->st_partially_filled,
                         &b->st_filled, &b->st_canceled, &b->st_partially_canceled, &b->st_rejected,
                         &b->gtc, &b->ioc, &b->fok, &b->post_only, &b->limit, &b->market,
                         &b->limit_maker, &b->known_pairs, &b->from_venue, &b->sizes,
                         &b->empty, &b->gt, &b->zero};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        Py_CLEAR(*refs[i]);
    PyMem_Free(b);
}

/* build = (mode, Order, (BUY, SELL), (NEW, PARTIALLY_FILLED, FILLED, CANCELED,
   PARTIALLY_CANCELED, REJECTED), (GTC, IOC, FOK, POST_ONLY), (LIMIT, MARKET, LIMIT_MAKER),
   known_pairs: dict, from_venue, sizes: dict | None) (codec.wire_order_build). The schema's
   Struct must have every field the mode's codec reads, of the kind it reads. */
static int builder_compile(Schema *s, PyObject *spec) {
    Builder *b = PyMem_Calloc(1, sizeof(Builder));
    if (b == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->builder = b; /* freed with the reader, also on failure below */
    PyObject *sizes = Py_None;
    if (!PyArg_ParseTuple(spec, "iO(OO)(OOOOOO)(OOOO)(OOO)O!O|O", &b->mode, &b->order_cls, &b->buy, &b->sell,
                          &b->st_new, &b->st_partially_filled, &b->st_filled, &b->st_canceled,
                          &b->st_partially_canceled, &b->st_rejected, &b->gtc, &b->ioc, &b->fok,
                          &b->post_only, &b->limit, &b->market, &b->limit_maker, &PyDict_Type,
                          &b->known_pairs, &b->from_venue, &sizes)) {
        memset(b, 0, sizeof(*b)); /* the parsed references are borrowed: none is held yet */
        return -1;
    }
    PyObject **refs[] = {&b->order_cls, &b->buy, &b->sell, &b->st_new, &b->st_partially_filled,
                         &b->st_filled, &b->st_canceled, &b->st_partially_canceled, &b->st_rejected,
                         &b->gtc, &b->ioc, &b->fok, &b->post_only, &b->limit, &b->market,
                         &b->limit_maker, &b->known_pairs, &b->from_venue};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        Py_INCREF(*refs[i]);
    b->empty = PyUnicode_FromString("");
    b->gt = PyUnicode_InternFromString("GT");
    b->zero = PyFloat_FromDouble(0.0);
    if (b->empty == NULL || b->gt == NULL || b->zero == NULL)
        return -1;
    const Slot *slots;
    int count;
    if (b->mode == BUILD_SPOT) {
        slots = SPOT_SLOTS;
        count = S_SLOTS;
    } else if (b->mode == BUILD_FUTURES && PyDict_Check(sizes)) {
        slots = FUTURES_SLOTS;
        count = F_SLOTS;
        b->sizes = Py_NewRef(sizes);
    } else {
        PyErr_SetString(PyExc_ValueError, "build mode 1 (spot) or 2 (futures, with a dict of contract sizes)");
        return -1;
    }
    for (int slot = 0; slot < count; slot++) {
        int i = field_of(s, slots[slot].key, (Py_ssize_t)strlen(slots[slot].key));
        if (i < 0 || s->fields[i].kind != slots[slot].kind) {
            PyErr_Format(PyExc_ValueError, "the order Struct has no field %s of the kind the codec reads",
                         slots[slot].key);
            return -1;
        }
        /* A default stands in for a missing field: the rules below read it as that kind. */
        PyObject *fallback = s->fields[i].fallback;
        int kind = slots[slot].kind;
        if (fallback != NULL &&
            !((kind == K_FLOAT && PyFloat_CheckExact(fallback)) ||
              (kind == K_OPT_FLOAT && (fallback == Py_None || PyFloat_CheckExact(fallback))) ||
              (kind == K_STR && PyUnicode_CheckExact(fallback)) ||
              (kind == K_STR_OR_INT && (PyUnicode_CheckExact(fallback) || PyLong_CheckExact(fallback))) ||
              (kind == K_INT && PyLong_CheckExact(fallback)) || (kind == K_BOOL && PyBool_Check(fallback)))) {
            PyErr_Format(PyExc_ValueError, "the default of %s is not of its kind", slots[slot].key);
            return -1;
        }
        b->at[slot] = i;
    }
    for (int i = 0; i < s->n; i++) { /* read_order_item reads any float field's default as a double */
        PyObject *fallback = s->fields[i].fallback;
        int kind = s->fields[i].kind;
        if ((kind == K_FLOAT && fallback != NULL && !PyFloat_CheckExact(fallback)) ||
            (kind == K_OPT_FLOAT && fallback != NULL && fallback != Py_None && !PyFloat_CheckExact(fallback))) {
            PyErr_Format(PyExc_ValueError, "the default of %s is not a float", s->fields[i].name);
            return -1;
        }
    }
    return 0;
}

/* A slot's value: V the object (not of float fields), D the double of a float field (not
   None), NONE whether an optional float is None. */
#define V(slot) values[b->at[slot]]
#define D(slot) nums[b->at[slot]]
#define NONE(slot) (values[b->at[slot]] == Py_None)

static inline int text_is(PyObject *text, const char *word, Py_ssize_t n) {
    return PyUnicode_GET_LENGTH(text) == n && PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND &&
           memcmp(PyUnicode_1BYTE_DATA(text), word, (size_t)n) == 0;
}

/* round(x, 12) as CPython computes it (correctly rounded, ties to even). Below 2**51 the
   product x * 1e12 is within 1/8 of the exact one (an ulp there is at most 1/4); when it
   is also within 1/4 of a whole number n, the exact product is within 3/8 of n, so n is
   the exact product rounded (no tie), and n / 1e12 (both exact) is the float nearest to
   the rounded decimal, as round() gives (with the sign of x when n is 0). Otherwise,
   CPython's own digits (the dtoa that round() uses) parsed back. */
static int round12(double x, double *out) {
    /* volatile: the product is stored rounded, so no compiler can fuse it into the
       subtraction below (FMA) and test a value other than the one divided back. */
    volatile double product = x * 1e12;
    double scaled = product, whole = trunc(scaled), rest = scaled - whole; /* both exact */
    if (rest > 0.5)
        whole += 1.0, rest -= 1.0;
    else if (rest < -0.5)
        whole -= 1.0, rest += 1.0;
    if (fabs(scaled) < 2251799813685248.0 && fabs(rest) <= 0.25) {
        *out = whole / 1e12; /* whole keeps the sign of x, also as -0.0 */
        return 0;
    }
    if (!isfinite(x)) {
        *out = x;
        return 0;
    }
    char *text = PyOS_double_to_string(x, 'f', 12, 0, NULL);
    if (text == NULL)
        return -1;
    *out = PyOS_string_to_double(text, NULL, NULL);
    PyMem_Free(text);
    return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* codec._DIVISORS: 10**k for a contract size of 1e-k (k = 0..12), else 0. */
static double divisor_of(double size) {
    static const double SIZES[] = {1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12};
    for (int k = 0; k < 13; k++)
        if (size == SIZES[k])
            return POW10[k];
    return 0.0;
}

/* codec._base: contracts -> base units. */
static int base_units(double contracts, double size, double *out) {
    double divisor = divisor_of(size);
    if (divisor != 0.0 && 0.0 <= contracts && contracts < 1024.0 * divisor && floor(contracts) == contracts) {
        *out = contracts / divisor;
        return 0;
    }
    return round12(contracts * size, out);
}

/* codec.closed_status; `remaining` NULL for None. */
static PyObject *closed_status(const Builder *b, PyObject *finish_as, double filled, const double *remaining) {
    if (text_is(finish_as, "filled", 6) || (remaining != NULL && *remaining <= EPS && filled > EPS))
        return b->st_filled;
    if (filled > EPS)
        return b->st_partially_canceled;
    if (text_is(finish_as, "poc", 3))
        return b->st_rejected;
    return b->st_canceled;
}

/* codec._ms, its int as a double (whole). */
static inline double ms_of(double value) {
    if (value <= 0)
        return 0.0;
    return value < 1e11 ? trunc(value * 1000.0) : trunc(value);
}

/* `int(t) if t >= 1e11 else (_ms(t) or _ms(seconds))` */
static inline double time_ms(double t, double seconds) {
    if (t >= 1e11)
        return trunc(t);
    double ms = ms_of(t);
    return ms != 0.0 ? ms : ms_of(seconds);
}

static PyObject *tif_of(const Builder *b, PyObject *text) {
    if (PyUnicode_GET_LENGTH(text) == 3) {
        if (text_is(text, "gtc", 3))
            return b->gtc;
        if (text_is(text, "ioc", 3))
            return b->ioc;
        if (text_is(text, "fok", 3))
            return b->fok;
        if (text_is(text, "poc", 3))
            return b->post_only;
    }
    return b->gtc;
}

/* `KNOWN_PAIRS.get(name) or from_venue(name)` (a new reference), NULL to decline. */
static PyObject *symbol_of(const Builder *b, PyObject *name) {
    PyObject *symbol = PyDict_GetItemWithError(b->known_pairs, name);
    if (symbol != NULL)
        return Py_NewRef(symbol);
    if (!PyErr_Occurred())
        symbol = PyObject_CallOneArg(b->from_venue, name);
    if (symbol == NULL)
        PyErr_Clear(); /* the Python path raises it again where the codec would */
    return symbol;
}

/* `str(id)`, NULL to decline. */
static PyObject *id_text(PyObject *id) {
    PyObject *text = PyUnicode_CheckExact(id) ? Py_NewRef(id) : PyObject_Str(id);
    if (text == NULL)
        PyErr_Clear();
    return text;
}

/* `text if text.startswith("t-") else ""` */
static inline PyObject *client_id(const Builder *b, PyObject *text) {
    if (PyUnicode_GET_LENGTH(text) >= 2 && PyUnicode_READ_CHAR(text, 0) == 't' && PyUnicode_READ_CHAR(text, 1) == '-')
        return text;
    return b->empty;
}

/* Calls Order(*args) with args[i] for i < n; `owned` marks the new references among them. */
static PyObject *make_order(const Builder *b, PyObject **args, const int *owned, int n) {
    PyObject *order = NULL;
    for (int i = 0; i < n; i++)
        if (args[i] == NULL)
            goto done;
    order = PyObject_Vectorcall(b->order_cls, args, (size_t)n, NULL);
done:
    for (int i = 0; i < n; i++)
        if (owned[i])
            Py_XDECREF(args[i]);
    if (order == NULL && !PyErr_ExceptionMatches(PyExc_MemoryError))
        PyErr_Clear();
    return order;
}

/* codec.order_from_msg */
static PyObject *spot_order(const Builder *b, PyObject *const *values, const double *nums) {
    PyObject *side;
    if (text_is(V(S_SIDE), "buy", 3))
        side = b->buy;
    else if (text_is(V(S_SIDE), "sell", 4))
        side = b->sell;
    else
        return NULL; /* the codec's KeyError */
    int is_market = text_is(V(S_TYPE), "market", 6);
    int market_buy = is_market && side == b->buy;
    double amount = D(S_AMOUNT);
    double left = NONE(S_LEFT) ? amount : D(S_LEFT);
    double filled_total = D(S_FILLED_TOTAL), avg = D(S_AVG);
    double filled, quantity, remaining;
    if (!NONE(S_FILLED_AMOUNT)) {
        filled = D(S_FILLED_AMOUNT);
    } else if (market_buy) {
        filled = avg > 0 ? filled_total / avg : 0.0;
    } else {
        double diff = amount - left, rounded;
        if (round12(diff, &rounded) < 0)
            return NULL;
        filled = rounded > 0.0 ? rounded : 0.0; /* max(0.0, rounded) */
    }
    if (market_buy) {
        quantity = filled;
        remaining = 0.0;
    } else {
        quantity = amount;
        remaining = left;
    }
    PyObject *status;
    if (text_is(V(S_EVENT), "finish", 6) || text_is(V(S_STATUS), "closed", 6) || text_is(V(S_STATUS), "cancelled", 9)) {
        status = closed_status(b, V(S_FINISH_AS), filled, market_buy ? NULL : &left);
        if (status == b->st_filled)
            remaining = 0.0;
    } else {
        status = filled > EPS ? b->st_partially_filled : b->st_new;
    }
    if (avg <= 0 && filled > EPS && filled_total > 0)
        avg = filled_total / filled;
    double fee = D(S_FEE);
    PyObject *fee_asset = V(S_FEE_CURRENCY);
    if (fee == 0.0 && D(S_GT_FEE) > 0) {
        fee = D(S_GT_FEE);
        fee_asset = b->gt;
    }
    double created = time_ms(D(S_CREATE_MS), D(S_CREATE));
    double updated = D(S_UPDATE_MS);
    if (updated >= 1e11) {
        updated = trunc(updated);
    } else {
        updated = ms_of(updated);
        if (updated == 0.0)
            updated = ms_of(D(S_UPDATE));
        if (updated == 0.0)
            updated = created;
    }
    PyObject *tif = tif_of(b, V(S_TIF));
    PyObject *order_type = is_market ? b->market : tif == b->post_only ? b->limit_maker : b->limit;
    PyObject *updated_at = PyLong_FromDouble(updated);
    PyObject *args[19] = {
        symbol_of(b, V(S_PAIR)),
        id_text(V(S_ID)),
        client_id(b, V(S_TEXT)),
        side,
        order_type,
        PyFloat_FromDouble(D(S_PRICE)),
        PyFloat_FromDouble(quantity),
        status,
        tif,
        PyFloat_FromDouble(filled),
        PyFloat_FromDouble(remaining),
        PyFloat_FromDouble(avg),
        PyFloat_FromDouble(fee),
        fee_asset,
        PyLong_FromDouble(created),
        updated_at,
        updated_at,
        Py_False,
        market_buy ? PyFloat_FromDouble(amount) : Py_NewRef(b->zero),
    };
    static const int owned[19] = {1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1};
    return make_order(b, args, owned, 19);
}

/* codec.futures_order_from_msg, with the contract size the stream has cached. */
static PyObject *futures_order(const Builder *b, PyObject *const *values, const double *nums) {
    PyObject *contract_size = PyDict_GetItemWithError(b->sizes, V(F_CONTRACT));
    if (contract_size == NULL || !PyFloat_CheckExact(contract_size)) {
        PyErr_Clear(); /* not cached yet: the Python path looks it up (and caches it) */
        return NULL;
    }
    double csize = PyFloat_AS_DOUBLE(contract_size);
    double size = D(F_SIZE), left = D(F_LEFT);
    PyObject *side;
    if (size < 0.0) {
        side = b->sell;
        size = -size;
    } else {
        side = b->buy;
        size += 0.0;
    }
    left = left < 0.0 ? -left : left + 0.0;
    double filled_contracts = size - left;
    double divisor = divisor_of(csize);
    double quantity, filled, remaining;
    /* `size % 1.0 == 0.0` is floor(size) == size here: both are finite (below the bound)
       and not negative. */
    if (divisor != 0.0 && left <= size && size < 1024.0 * divisor && floor(size) == size && floor(left) == left) {
        quantity = size / divisor;
        if (left == 0.0) {
            remaining = 0.0;
            filled = filled_contracts > 0.0 ? quantity : 0.0;
        } else if (filled_contracts <= 0.0) {
            filled_contracts = 0.0;
            filled = 0.0;
            remaining = quantity;
        } else {
            filled = filled_contracts / divisor;
            remaining = left / divisor;
        }
    } else {
        if (base_units(size, csize, &quantity) < 0)
            return NULL;
        if (left == 0.0) {
            remaining = 0.0;
            filled = filled_contracts > 0.0 ? quantity : 0.0;
        } else if (filled_contracts <= 0.0) {
            filled_contracts = 0.0;
            filled = 0.0;
            if (left == size)
                remaining = quantity;
            else if (base_units(left, csize, &remaining) < 0)
                return NULL;
        } else if (base_units(filled_contracts, csize, &filled) < 0 || base_units(left, csize, &remaining) < 0) {
            return NULL;
        }
    }
    PyObject *status;
    if (text_is(V(F_STATUS), "finished", 8)) {
        status = closed_status(b, V(F_FINISH_AS), filled_contracts, &left);
        if (status == b->st_filled)
            remaining = 0.0;
    } else {
        status = filled_contracts > EPS ? b->st_partially_filled : b->st_new;
    }
    PyObject *tif = tif_of(b, V(F_TIF)), *order_type;
    if (tif == b->gtc)
        order_type = b->limit;
    else if (D(F_PRICE) == 0.0 && (tif == b->ioc || tif == b->fok))
        order_type = b->market;
    else if (tif == b->post_only)
        order_type = b->limit_maker;
    else
        order_type = b->limit;
    double created = time_ms(D(F_CREATE_MS), D(F_CREATE));
    double updated = D(F_UPDATE);
    if (updated >= 1e11) {
        updated = trunc(updated);
    } else {
        updated = ms_of(updated);
        if (updated == 0.0)
            updated = ms_of(D(F_FINISH_MS));
        if (updated == 0.0)
            updated = ms_of(D(F_FINISH));
        if (updated == 0.0)
            updated = created;
    }
    PyObject *args[18] = {
        symbol_of(b, V(F_CONTRACT)),
        id_text(V(F_ID)),
        client_id(b, V(F_TEXT)),
        side,
        order_type,
        PyFloat_FromDouble(D(F_PRICE)),
        PyFloat_FromDouble(quantity),
        status,
        tif,
        PyFloat_FromDouble(filled),
        PyFloat_FromDouble(remaining),
        filled_contracts > 0 ? PyFloat_FromDouble(D(F_FILL_PRICE)) : Py_NewRef(b->zero),
        b->zero,
        b->empty,
        PyLong_FromDouble(created),
        PyLong_FromDouble(updated),
        V(F_UPDATE_ID),
        V(F_REDUCE_ONLY),
    };
    static const int owned[18] = {1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0};
    return make_order(b, args, owned, 18);
}

/* An id field (str | int): a string as read_field reads it; an integer of the form
   parse_int takes as its text, which is str() of it (but "-0", whose str() is "0"). */
static PyObject *read_id_text(Cursor *c, Field *f) {
    const uint8_t *s;
    Py_ssize_t n;
    int plain;
    if (*c->p == '"')
        return read_string(c, &s, &n) < 0 ? NULL : read_text(f, s, n);
    if (read_number(c, &s, &n, &plain) < 0 || !plain)
        return NULL;
    Py_ssize_t digits = n - (*s == '-');
    if (digits > 18 || memchr(s, '.', (size_t)n) != NULL)
        return NULL;
    if (n == 2 && s[0] == '-' && s[1] == '0')
        s++, n--;
    return read_text(f, s, n);
}

/* An order channel's item as it is walked: objects, and the floats read as numbers. */
typedef struct {
    PyObject *values[MAX_FIELDS]; /* NULL for a float field read as a number */
    double nums[MAX_FIELDS];
    uint8_t seen[MAX_FIELDS];
} OrderSlots;

static int read_order_field(Cursor *c, Schema *schema, int i, void *ctx) {
    OrderSlots *slots = ctx;
    Field *f = &schema->fields[i];
    if (slots->seen[i]++)
        return -1; /* a duplicate key */
    skip_ws(c);
    if (c->p >= c->end)
        return -1;
    if (f->kind == K_OPT_FLOAT && *c->p == 'n') {
        if (literal(c, "null", 4) < 0)
            return -1;
        slots->values[i] = Py_NewRef(Py_None);
        return 0;
    }
    if (f->kind == K_FLOAT || f->kind == K_OPT_FLOAT)
        return read_float(c, &slots->nums[i]);
    slots->values[i] = f->kind == K_STR_OR_INT ? read_id_text(c, f) : read_field(c, f);
    return slots->values[i] == NULL ? -1 : 0;
}

/* read_item for an order channel: its walk, its checks, then the Order. */
static PyObject *read_order_item(Cursor *c, Schema *schema) {
    const Builder *b = schema->builder;
    OrderSlots slots = {{NULL}, {0}, {0}};
    PyObject **values = slots.values;
    double *nums = slots.nums;
    uint8_t *seen = slots.seen;
    PyObject *out = NULL;
    if (walk_object(c, schema, read_order_field, &slots) < 0)
        goto done;
    for (int i = 0; i < schema->n; i++) {
        if (seen[i])
            continue;
        const Field *f = &schema->fields[i];
        if (f->fallback == NULL)
            goto done; /* a required field is missing */
        if (f->kind == K_FLOAT || (f->kind == K_OPT_FLOAT && f->fallback != Py_None))
            nums[i] = PyFloat_AS_DOUBLE(f->fallback); /* a float (builder_compile checks) */
        else if ((values[i] = f->kind == K_LEVELS ? PyList_New(0) : Py_NewRef(f->fallback)) == NULL)
            goto done;
    }
    out = b->mode == BUILD_SPOT ? spot_order(b, values, nums) : futures_order(b, values, nums);
done:
    for (int i = 0; i < schema->n; i++)
        Py_XDECREF(values[i]);
    return out;
}

static PyMethodDef methods[] = {
    {"compile", compile_reader, METH_O,
     "compile(((channel, cls, keys, kinds, defaults), ...)) -> reader (see ws_common.WireRoutes)."},
    {"read", (PyCFunction)(void (*)(void))read_frame, METH_FASTCALL,
     "read(frame, reader) -> (channel index, [cls, ...]) or None (not a frame this reader fully\n"
     "understands: decode it with msgspec)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cexarb.venues.gateio._gatewire",
    .m_doc = "Gate WebSocket update frames of flat-object lists read in one pass.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__gatewire(void) {
    for (int ch = 0x20; ch < 0x80; ch++)
        PLAIN[ch] = ch != '"' && ch != '\\';
    if (PyType_Ready(&LevelsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddObjectRef(m, "Levels", (PyObject *)&LevelsType) < 0)
        Py_CLEAR(m);
    return m;
}
