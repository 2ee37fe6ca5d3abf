/* MEXC spot pushes read straight off the protobuf wire, for the bodies on the hot paths:
   aggregated depth (PushDataV3ApiWrapper.publicAggreDepths, field 313), aggregated book
   ticker (publicAggreBookTicker, field 315) and order updates (privateOrders, field 304).
   See mexc_client_push.proto.

   upb builds a Python message per depth level and a str per field, which the codec then
   converts to floats; here each level becomes its (price, qty) float tuple directly.

   This reader only accepts what it fully understands and returns None for anything else:
   another body, an unknown or repeated field, a wrong wire type, a truncated varint or
   length, non-ASCII text, a decimal outside -?(0|[1-9][0-9]*)(.[0-9]+)? or a version that
   is not plain digits. The caller then parses the frame with upb as before, which accepts
   or rejects it exactly as it always did, so the fast path adds no leniency. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    Py_ssize_t n; /* -1: field absent */
} Span;

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end)
            return -1;
        uint8_t byte = *p++;
        if (shift == 63 && byte > 1)
            return -1; /* more than 64 bits */
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *pp = p;
            *out = value;
            return 0;
        }
    }
    return -1;
}

/* The next field's number, wire type and (for length-delimited fields) its bytes, or for
   varints its value. Only wire types 0 and 2 occur in these messages. */
static inline int read_field(const uint8_t **pp, const uint8_t *end, uint32_t *field, Span *bytes,
                             uint64_t *value) {
    uint64_t tag;
    if (read_varint(pp, end, &tag) < 0 || (tag >> 3) == 0 || (tag >> 3) > 536870911)
        return -1;
    *field = (uint32_t)(tag >> 3);
    switch (tag & 7) {
    case 0:
        bytes->n = -1;
        return read_varint(pp, end, value);
    case 2: {
        uint64_t len;
        if (read_varint(pp, end, &len) < 0 || len > (uint64_t)(end - *pp))
            return -1;
        bytes->p = *pp;
        bytes->n = (Py_ssize_t)len;
        *pp += len;
        return 0;
    }
    default:
        return -1;
    }
}

static inline int is_ascii(Span s) {
    for (Py_ssize_t i = 0; i < s.n; i++)
        if (s.p[i] & 0x80)
            return 0;
    return 1;
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A decimal string as the double float() gives (correctly rounded). When the digits fit
   2**53 and there are at most 22 decimals, one IEEE division of two exact doubles is
   correctly rounded by itself; otherwise CPython's own correctly rounded parser runs. */
static int parse_decimal(Span s, double *out) {
    const uint8_t *p = s.p, *end = s.p + s.n;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    const uint8_t *int_start = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    Py_ssize_t int_digits = p - int_start;
    if (int_digits == 0 || (int_digits > 1 && *int_start == '0'))
        return -1;
    Py_ssize_t frac_digits = 0;
    if (p < end && *p == '.') {
        const uint8_t *frac_start = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        frac_digits = p - frac_start;
        if (frac_digits == 0)
            return -1;
    }
    if (p != end)
        return -1;
    double value;
    uint64_t mantissa = 0;
    int significant = 0;
    for (const uint8_t *q = int_start; q < end; q++) {
        if (*q == '.')
            continue;
        if (mantissa || *q != '0')
            significant++;
        if (significant > 19)
            break;
        mantissa = mantissa * 10 + (uint64_t)(*q - '0');
    }
    if (significant <= 19 && mantissa <= (1ULL << 53) && frac_digits <= 22) {
        value = (double)mantissa / POW10[frac_digits];
    } else {
        char buf[96];
        if (s.n >= (Py_ssize_t)sizeof(buf))
            return -1;
        memcpy(buf, s.p, (size_t)s.n);
        buf[s.n] = '\0';
        value = PyOS_string_to_double(buf, NULL, NULL);
        if (value == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return -1;
        }
        neg = 0; /* the sign was parsed with the digits */
    }
    /* "-0" reads as 0.0, as the codec's msgspec conversion gives it. */
    *out = value == 0.0 ? 0.0 : (neg ? -value : value);
    return 0;
}

/* A version string ("123"): plain digits that fit an int64, as int() reads them. */
static int parse_version(Span s, long long *out) {
    if (s.n <= 0 || s.n > 18)
        return -1;
    long long v = 0;
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return 0;
}

static PyObject *float_pair(double a, double b) {
    PyObject *x = PyFloat_FromDouble(a), *y = PyFloat_FromDouble(b), *pair = PyTuple_New(2);
    if (x == NULL || y == NULL || pair == NULL) {
        Py_XDECREF(x);
        Py_XDECREF(y);
        Py_XDECREF(pair);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, x);
    PyTuple_SET_ITEM(pair, 1, y);
    return pair;
}

/* PublicAggreDepthV3ApiItem {string price = 1; string quantity = 2;} -> 1 (appended),
   0 (not for this reader), -1 (Python error). */
static int append_level(Span item, PyObject *list) {
    const uint8_t *p = item.p, *end = item.p + item.n;
    Span price = {NULL, -1}, qty = {NULL, -1}, bytes;
    uint32_t field;
    uint64_t value;
    while (p < end) {
        if (read_field(&p, end, &field, &bytes, &value) < 0 || bytes.n < 0)
            return 0;
        if (field == 1 && price.n < 0)
            price = bytes;
        else if (field == 2 && qty.n < 0)
            qty = bytes;
        else
            return 0;
    }
    double px, q;
    if (price.n < 0 || qty.n < 0 || parse_decimal(price, &px) < 0 || parse_decimal(qty, &q) < 0)
        return 0;
    PyObject *pair = float_pair(px, q);
    if (pair == NULL)
        return -1;
    int rc = PyList_Append(list, pair);
    Py_DECREF(pair);
    return rc < 0 ? -1 : 1;
}

/* PublicAggreDepthsV3Api: asks = 1, bids = 2, eventType = 3, fromVersion = 4,
   toVersion = 5, lastOrderCreateTime = 6. */
static PyObject *depth_body(Span body, PyObject *symbol, PyObject *channel, long long send_time) {
    PyObject *asks = PyList_New(0), *bids = PyList_New(0);
    if (asks == NULL || bids == NULL)
        goto fail;
    const uint8_t *p = body.p, *end = body.p + body.n;
    Span event = {NULL, -1}, from = {NULL, -1}, to = {NULL, -1}, bytes;
    int seen_create = 0;
    uint32_t field;
    uint64_t value;
    while (p < end) {
        if (read_field(&p, end, &field, &bytes, &value) < 0)
            goto not_ours;
        if ((field == 1 || field == 2) && bytes.n >= 0) {
            int rc = append_level(bytes, field == 1 ? asks : bids);
            if (rc < 0)
                goto fail;
            if (rc == 0)
                goto not_ours;
        } else if (field == 3 && bytes.n >= 0 && event.n < 0) {
            event = bytes;
        } else if (field == 4 && bytes.n >= 0 && from.n < 0) {
            from = bytes;
        } else if (field == 5 && bytes.n >= 0 && to.n < 0) {
            to = bytes;
        } else if (field == 6 && bytes.n < 0 && !seen_create) {
            seen_create = 1;
        } else {
            goto not_ours;
        }
    }
    long long from_version, to_version;
    if ((event.n >= 0 && !is_ascii(event)) || from.n < 0 || to.n < 0 ||
        parse_version(from, &from_version) < 0 || parse_version(to, &to_version) < 0)
        goto not_ours;
    return Py_BuildValue("(iOOLLNNL)", 313, symbol, channel, from_version, to_version, bids, asks,
                         send_time);
not_ours:
    Py_DECREF(asks);
    Py_DECREF(bids);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(asks);
    Py_XDECREF(bids);
    return NULL;
}

/* PublicAggreBookTickerV3Api: bidPrice = 1, bidQuantity = 2, askPrice = 3, askQuantity = 4,
   version = 5, lastOrderCreateTime = 6. An absent or empty decimal reads as 0 and an absent
   or empty version as 0, as in the codec. */
static PyObject *ticker_body(Span body, PyObject *symbol, PyObject *channel, long long send_time) {
    const uint8_t *p = body.p, *end = body.p + body.n;
    Span text[6] = {{NULL, -1}, {NULL, -1}, {NULL, -1}, {NULL, -1}, {NULL, -1}, {NULL, -1}}, bytes;
    int seen_create = 0;
    uint32_t field;
    uint64_t value;
    while (p < end) {
        if (read_field(&p, end, &field, &bytes, &value) < 0)
            Py_RETURN_NONE;
        if (field >= 1 && field <= 5 && bytes.n >= 0 && text[field].n < 0)
            text[field] = bytes;
        else if (field == 6 && bytes.n < 0 && !seen_create)
            seen_create = 1;
        else
            Py_RETURN_NONE;
    }
    double prices[5] = {0, 0, 0, 0, 0};
    for (int i = 1; i <= 4; i++)
        if (text[i].n > 0 && parse_decimal(text[i], &prices[i]) < 0)
            Py_RETURN_NONE;
    long long version = 0;
    if (text[5].n > 0 && parse_version(text[5], &version) < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(iOOddddLL)", 315, symbol, channel, prices[1], prices[2], prices[3], prices[4],
                         version, send_time);
}

/* A proto3 int32 field carried as a varint: only values 0..INT32_MAX (a negative int32 is a
   ten-byte sign extension, left to upb). */
static inline int small_int(uint64_t value, long *out) {
    if (value > 2147483647ULL)
        return -1;
    *out = (long)value;
    return 0;
}

/* PrivateOrdersV3Api. Decimals read: price = 3, quantity = 4, avgPrice = 6,
   remainQuantity = 11, cumulativeQuantity = 13 (absent or empty -> 0, as in the codec);
   strings kept: id = 1, clientId = 2; ints: orderType = 7, tradeType = 8, status = 15,
   createTime = 16. The other declared fields are checked (wire type, once, ASCII text) and
   skipped. A tradeType other than 1/2 or a status outside 0..5 is left to upb, whose path
   raises the codec's error for it. */
static PyObject *order_body(Span body, PyObject *symbol, PyObject *channel, long long send_time) {
    /* wire type per field number: 2 = string, 0 = varint (int32/int64/bool) */
    static const int8_t KIND[27] = {-1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 2,
                                    0,  0, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2};
    const uint8_t *p = body.p, *end = body.p + body.n;
    Span text[27];
    uint64_t ints[27];
    uint32_t seen = 0;
    Span bytes;
    uint32_t field;
    uint64_t value = 0;
    while (p < end) {
        if (read_field(&p, end, &field, &bytes, &value) < 0 || field > 26 || (seen >> field) & 1)
            Py_RETURN_NONE;
        seen |= 1u << field;
        if (KIND[field] == 2) {
            if (bytes.n < 0 || !is_ascii(bytes))
                Py_RETURN_NONE;
            text[field] = bytes;
        } else {
            if (bytes.n >= 0)
                Py_RETURN_NONE;
            ints[field] = value;
        }
    }
    static const int DECIMALS[5] = {3, 4, 13, 11, 6}; /* price, qty, filled, remaining, avg */
    double numbers[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        int f = DECIMALS[i];
        if ((seen >> f) & 1 && text[f].n > 0 && parse_decimal(text[f], &numbers[i]) < 0)
            Py_RETURN_NONE;
    }
    long order_type = 0, trade_type = 0, status = 0;
    if (((seen >> 7) & 1 && small_int(ints[7], &order_type) < 0) ||
        ((seen >> 8) & 1 && small_int(ints[8], &trade_type) < 0) ||
        ((seen >> 15) & 1 && small_int(ints[15], &status) < 0))
        Py_RETURN_NONE;
    if ((trade_type != 1 && trade_type != 2) || status > 5)
        Py_RETURN_NONE;
    long long created = (seen >> 16) & 1 ? (long long)ints[16] : 0; /* int64: two's complement */
    Span id = (seen >> 1) & 1 ? text[1] : (Span){(const uint8_t *)"", 0};
    Span client = (seen >> 2) & 1 ? text[2] : (Span){(const uint8_t *)"", 0};
    return Py_BuildValue("(iOOs#s#dddddlllLL)", 304, symbol, channel, (const char *)id.p, id.n,
                         (const char *)client.p, client.n, numbers[0], numbers[1], numbers[2],
                         numbers[3], numbers[4], order_type, trade_type, status, created, send_time);
}

static PyObject *decode(PyObject *Py_UNUSED(module), PyObject *arg) {
    if (!PyBytes_CheckExact(arg))
        Py_RETURN_NONE;
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(arg);
    const uint8_t *end = p + PyBytes_GET_SIZE(arg);
    Span channel = {NULL, -1}, symbol = {NULL, -1}, symbol_id = {NULL, -1}, body = {NULL, -1}, bytes;
    uint32_t body_field = 0, field;
    uint64_t value, send_time = 0;
    int seen_create = 0, seen_send = 0;
    while (p < end) {
        if (read_field(&p, end, &field, &bytes, &value) < 0)
            Py_RETURN_NONE;
        if (field == 1 && bytes.n >= 0 && channel.n < 0)
            channel = bytes;
        else if (field == 3 && bytes.n >= 0 && symbol.n < 0)
            symbol = bytes;
        else if (field == 4 && bytes.n >= 0 && symbol_id.n < 0)
            symbol_id = bytes;
        else if (field == 5 && bytes.n < 0 && !seen_create)
            seen_create = 1;
        else if (field == 6 && bytes.n < 0 && !seen_send) {
            seen_send = 1;
            send_time = value;
        } else if ((field == 313 || field == 315 || field == 304) && bytes.n >= 0 && body.n < 0) {
            body = bytes;
            body_field = field;
        } else
            Py_RETURN_NONE; /* another body, or anything this reader does not know */
    }
    if (body.n < 0 || (channel.n >= 0 && !is_ascii(channel)) || (symbol.n >= 0 && !is_ascii(symbol)) ||
        (symbol_id.n >= 0 && !is_ascii(symbol_id)))
        Py_RETURN_NONE;
    PyObject *channel_str = PyUnicode_FromStringAndSize((const char *)channel.p, channel.n < 0 ? 0 : channel.n);
    if (channel_str == NULL)
        return NULL;
    PyObject *symbol_str;
    if (symbol.n >= 0) {
        symbol_str = PyUnicode_FromStringAndSize((const char *)symbol.p, symbol.n);
        if (symbol_str == NULL) {
            Py_DECREF(channel_str);
            return NULL;
        }
    } else {
        symbol_str = Py_NewRef(Py_None);
    }
    long long sent = (long long)send_time; /* int64 on the wire: two's complement */
    PyObject *out = body_field == 313   ? depth_body(body, symbol_str, channel_str, sent)
                    : body_field == 315 ? ticker_body(body, symbol_str, channel_str, sent)
                                        : order_body(body, symbol_str, channel_str, sent);
    Py_DECREF(channel_str);
    Py_DECREF(symbol_str);
    return out;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_O,
     "decode(frame) -> (313, symbol|None, channel, fromVersion, toVersion, bids, asks, sendTime)\n"
     "or (315, symbol|None, channel, bid, bidQty, ask, askQty, version, sendTime)\n"
     "or (304, symbol|None, channel, id, clientId, price, quantity, cumulativeQuantity,\n"
     "    remainQuantity, avgPrice, orderType, tradeType, status, createTime, sendTime) or None\n"
     "(not a push this reader fully understands: parse it with upb)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cexarb.venues.mexc._pushwire",
    .m_doc = "MEXC aggregated depth, book ticker and order pushes read off the protobuf wire.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__pushwire(void) { return PyModule_Create(&module); }
