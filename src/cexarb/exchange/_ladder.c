/* One side of an L2 book in C: the sorted price ladder behind cexarb.exchange.book.

   Same behaviour as book.PyLadder (the pure-Python fallback used when this extension was
   not built), tested by the same tests: absolute (price, qty) levels, qty > 0 sets the
   level, anything else removes it. Levels live in one contiguous array sorted best-first
   by a key (price for asks, -price for bids), so a level costs a binary search plus, for
   an insert or a removal, a memmove of the worse levels (a few hundred bytes for a
   100-level book) instead of a dict entry, a list insort and the float objects. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    double key; /* price (asks) or -price (bids): ascending = best first */
    double qty;
} Level;

typedef struct {
    PyObject_HEAD
    Level *levels;
    Py_ssize_t n;
    Py_ssize_t cap;
    double sign; /* 1.0 asks, -1.0 bids */
} Ladder;

/* First index whose key is >= key (the levels are sorted ascending by key). Branch-free
   halving (the compiler emits a conditional move): the comparisons of a book diff are
   unpredictable, and a mispredicted branch per step cost more than the search itself. */
static inline Py_ssize_t lower_bound(const Level *levels, Py_ssize_t n, double key) {
    if (n == 0)
        return 0;
    const Level *base = levels;
    while (n > 1) {
        Py_ssize_t half = n >> 1;
        base = base[half - 1].key < key ? base + half : base;
        n -= half;
    }
    return (base - levels) + (base->key < key);
}

static int grow(Ladder *self) {
    Py_ssize_t cap = self->cap ? self->cap * 2 : 128;
    Level *levels = PyMem_Realloc(self->levels, (size_t)cap * sizeof(Level));
    if (levels == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->levels = levels;
    self->cap = cap;
    return 0;
}

/* Inlined into both callers (the list loop and the buffer loop): left to itself, gcc -O2 makes
   it one out-of-line call per level once it has two call sites (a 10-level list update then
   took ~3 % longer). */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define ALWAYS_INLINE __forceinline
#else
#define ALWAYS_INLINE inline
#endif

/* One absolute level. A NaN price cannot be ordered: it is ignored. */
static ALWAYS_INLINE int set_level(Ladder *self, double price, double qty) {
    double key = self->sign * price;
    if (key != key)
        return 0;
    Level *levels = self->levels;
    Py_ssize_t n = self->n;
    Py_ssize_t i;
    /* Appending past the worst level is the common case of a snapshot load. */
    if (n == 0 || levels[n - 1].key < key)
        i = n;
    else
        i = lower_bound(levels, n, key);
    if (i < n && levels[i].key == key) {
        if (qty > 0) {
            levels[i].qty = qty;
        } else {
            memmove(levels + i, levels + i + 1, (size_t)(n - i - 1) * sizeof(Level));
            self->n = n - 1;
        }
        return 0;
    }
    if (!(qty > 0))
        return 0;
    if (n == self->cap) {
        if (grow(self) < 0)
            return -1;
        levels = self->levels;
    }
    memmove(levels + i + 1, levels + i, (size_t)(n - i) * sizeof(Level));
    levels[i].key = key;
    levels[i].qty = qty;
    self->n = n + 1;
    return 0;
}

static int as_double(PyObject *obj, double *out) {
    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    *out = PyFloat_AsDouble(obj);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* An (n, 2) C-contiguous buffer of doubles (the Gate reader's Levels; a numpy array of that
   shape) applied pair by pair, with no tuple or float object made. 1 when applied, 0 when
   `changes` exports no such buffer (the caller then iterates it), -1 on an error. */
static int apply_buffer(Ladder *self, PyObject *changes, int loading) {
    Py_buffer view;
    if (PyObject_GetBuffer(changes, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear(); /* not contiguous: iterated as any other sequence */
        return 0;
    }
    if (view.ndim != 2 || view.shape[1] != 2 || view.itemsize != sizeof(double) || view.format == NULL ||
        strcmp(view.format, "d") != 0) {
        PyBuffer_Release(&view);
        return 0;
    }
    const double *pairs = view.buf;
    Py_ssize_t count = view.shape[0];
    int rc = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        double price = pairs[2 * k], qty = pairs[2 * k + 1];
        if (loading && !(qty > 0))
            continue;
        if (set_level(self, price, qty) < 0) {
            rc = -1;
            break;
        }
    }
    PyBuffer_Release(&view);
    return rc;
}

/* Apply every (price, qty) of an iterable; lists of 2-tuples of floats (what the codecs
   build) and pair buffers (apply_buffer) take a path without any call back into Python. A
   snapshot (`loading`) only keeps levels with qty > 0 and removes nothing, as the
   pure-Python load does. */
static int apply_levels(Ladder *self, PyObject *changes, int loading) {
    if (!PyList_CheckExact(changes) && PyObject_CheckBuffer(changes)) {
        int done = apply_buffer(self, changes, loading);
        if (done != 0)
            return done < 0 ? -1 : 0;
    }
    PyObject *seq = PySequence_Fast(changes, "levels must be an iterable of (price, qty)");
    if (seq == NULL)
        return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = items[k];
        double price, qty;
        if (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 2) {
            PyObject *p = PyTuple_GET_ITEM(item, 0), *q = PyTuple_GET_ITEM(item, 1);
            if (PyFloat_CheckExact(p) && PyFloat_CheckExact(q)) {
                price = PyFloat_AS_DOUBLE(p);
                qty = PyFloat_AS_DOUBLE(q);
            } else if (as_double(p, &price) < 0 || as_double(q, &qty) < 0) {
                goto error;
            }
        } else {
            PyObject *pair = PySequence_Fast(item, "a level must be a (price, qty) pair");
            if (pair == NULL)
                goto error;
            if (PySequence_Fast_GET_SIZE(pair) != 2) {
                Py_DECREF(pair);
                PyErr_SetString(PyExc_ValueError, "a level must be a (price, qty) pair");
                goto error;
            }
            int bad = as_double(PySequence_Fast_GET_ITEM(pair, 0), &price) < 0 ||
                      as_double(PySequence_Fast_GET_ITEM(pair, 1), &qty) < 0;
            Py_DECREF(pair);
            if (bad)
                goto error;
        }
        if (loading && !(qty > 0))
            continue;
        if (set_level(self, price, qty) < 0)
            goto error;
    }
    Py_DECREF(seq);
    return 0;
error:
    Py_DECREF(seq);
    return -1;
}

static PyObject *level_tuple(const Ladder *self, const Level *level) {
    PyObject *price = PyFloat_FromDouble(self->sign * level->key);
    if (price == NULL)
        return NULL;
    PyObject *qty = PyFloat_FromDouble(level->qty);
    if (qty == NULL) {
        Py_DECREF(price);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(price);
        Py_DECREF(qty);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, price);
    PyTuple_SET_ITEM(pair, 1, qty);
    return pair;
}

/* ---- methods ------------------------------------------------------------------------- */

static int Ladder_init(Ladder *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"descending", NULL};
    int descending = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "p", kwlist, &descending))
        return -1;
    self->sign = descending ? -1.0 : 1.0;
    self->n = 0;
    return 0;
}

static void Ladder_dealloc(Ladder *self) {
    PyMem_Free(self->levels);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Ladder_load(Ladder *self, PyObject *levels) {
    self->n = 0;
    if (apply_levels(self, levels, 1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Ladder_update(Ladder *self, PyObject *changes) {
    if (apply_levels(self, changes, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Ladder_best(Ladder *self, PyObject *Py_UNUSED(ignored)) {
    if (self->n == 0)
        Py_RETURN_NONE;
    return level_tuple(self, &self->levels[0]);
}

static PyObject *Ladder_top(Ladder *self, PyObject *depth_obj) {
    Py_ssize_t n = self->n;
    if (depth_obj != Py_None) {
        Py_ssize_t depth = PyNumber_AsSsize_t(depth_obj, PyExc_OverflowError);
        if (depth == -1 && PyErr_Occurred())
            return NULL;
        if (depth < 0) /* list slice semantics, as the pure-Python ladder's keys[:depth] */
            depth = n + depth < 0 ? 0 : n + depth;
        if (depth < n)
            n = depth;
    }
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = level_tuple(self, &self->levels[i]);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, pair);
    }
    return out;
}

static Py_ssize_t Ladder_len(Ladder *self) { return self->n; }

static PyMethodDef Ladder_methods[] = {
    {"load", (PyCFunction)Ladder_load, METH_O, "Replace every level with these (price, qty) levels."},
    {"update", (PyCFunction)Ladder_update, METH_O,
     "Apply absolute (price, qty) levels: qty > 0 sets the level, anything else removes it."},
    {"best", (PyCFunction)Ladder_best, METH_NOARGS, "The best (price, qty), or None when empty."},
    {"top", (PyCFunction)Ladder_top, METH_O, "The best `depth` levels (all for None), best first."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Ladder_as_sequence = {
    .sq_length = (lenfunc)Ladder_len,
};

static PyTypeObject LadderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cexarb.exchange._ladder.Ladder",
    .tp_doc = PyDoc_STR("One side of an L2 book: price -> quantity, kept sorted best-first."),
    .tp_basicsize = sizeof(Ladder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Ladder_init,
    .tp_dealloc = (destructor)Ladder_dealloc,
    .tp_methods = Ladder_methods,
    .tp_as_sequence = &Ladder_as_sequence,
};

static struct PyModuleDef ladder_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cexarb.exchange._ladder",
    .m_doc = "The compiled sorted L2 ladder (see cexarb.exchange.book).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__ladder(void) {
    if (PyType_Ready(&LadderType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&ladder_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&LadderType);
    if (PyModule_AddObject(module, "Ladder", (PyObject *)&LadderType) < 0) {
        Py_DECREF(&LadderType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
