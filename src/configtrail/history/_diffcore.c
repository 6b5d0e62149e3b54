/*
 * configtrail.history._diffcore: diff_sections in C.
 *
 * What: the field-level diff of configtrail/history/diff.py (python_diff_sections and its helpers
 * _walk_dicts, _walk_lists, _differing, _walk, _same, flatten and _relationship_changes), giving
 * exactly the same list of Change tuples, in the same order, for every input; and the loop of
 * build_timeline that makes a timeline's entries (python_entries). Each C function below is
 * named after the Python function it mirrors and follows it statement by statement.
 *
 * Why: a timeline of 200,000 items makes about 190,000 diffs and 3 million Change tuples; in
 * Python the interpreter's cost of walking the values was most of `configtrail history` (issue 13).
 *
 * The C code handles JSON data only: exact dicts with str keys, lists, str, int, float, bool and
 * None. Everything else goes back to the Python functions diff.py hands to configure(), so the
 * subtle rules stay in one place: JSON embedded as text (_decoded), values of other types and
 * keys that are not str (_walk, _walk_dicts, flatten, _same), a container against a leaf or an
 * empty container (flat_changes), unusual relationships (_relationship_label, _labels), paths
 * that need the stable sort (list.sort(key=path)) and nesting deeper than MAX_DEPTH.
 *
 * _same is the subtle one: Python compares `a == b` (1 == True == 1.0, -0.0 == 0.0, a NaN equal
 * only to itself) and then the two sorted-key msgspec encodings. same_json() below walks both
 * values once, in the order of Python's own ==, and answers SAME, UNEQUAL (== is false),
 * ENCODED_DIFFERENTLY (== is true but the encodings differ: 1 and true, 1 and 1.0, 0.0 and -0.0)
 * or UNKNOWN (something only Python can answer: a type that is not JSON, a key that is not str,
 * a lone surrogate msgspec refuses to encode, too deep); UNKNOWN asks the Python _same.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* Deeper values are handed to the Python functions (they have the interpreter's own limit). */
#define MAX_DEPTH 100

/* Set once by configure(). */
static PyTypeObject *change_type;
static PyObject *sections;
static PyObject *py_decoded, *py_same, *py_flat_changes, *py_flatten, *py_walk, *py_walk_dicts,
    *py_walk_lists, *py_relationship_label, *py_labels, *py_path_key, *py_diff_sections;

/* Interned constants. */
static PyObject *s_changed, *s_added, *s_removed, *s_empty, *s_relationships, *s_resource_id,
    *s_resource_name, *s_name, *s_relationship_name, *s_resource_type, *s_question,
    *s_related_to, *s_key, *s_sort, *s_keys, *s_strip, *s_status, *s_sections_attr, *s_gone,
    *s_first_recorded, *s_returned, *s_unchanged;

/* --- small helpers ------------------------------------------------------------------------- */

/* A Change: a tuple of the Change type with its fields set, as tuple.__new__(Change, fields)
 * makes it (configure() checked that Change adds nothing to tuple's layout). */
static PyObject *
change_new(PyObject *section, PyObject *path, PyObject *kind, PyObject *before, PyObject *after)
{
    PyTupleObject *change = PyObject_GC_NewVar(PyTupleObject, change_type, 5);
    if (change == NULL) {
        return NULL;
    }
    PyObject *fields[5] = {section, path, kind, before, after};
    for (int i = 0; i < 5; i++) {
        change->ob_item[i] = Py_NewRef(fields[i]);
    }
    PyObject_GC_Track(change);
    return (PyObject *)change;
}

static int
append_change(PyObject *out, PyObject *section, PyObject *path, PyObject *kind, PyObject *before,
              PyObject *after)
{
    PyObject *change = change_new(section, path, kind, before, after);
    if (change == NULL) {
        return -1;
    }
    int rc = PyList_Append(out, change);
    Py_DECREF(change);
    return rc;
}

static int
extend(PyObject *out, PyObject *items)
{
    Py_ssize_t end = PyList_GET_SIZE(out);
    return PyList_SetSlice(out, end, end, items);
}

/* a == b for two str (CPython's strings are canonical: equal ones have one kind). */
static inline int
unicode_equal(PyObject *a, PyObject *b)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return a == b || (length == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) &&
                      memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)length * kind) == 0);
}

/* f"{path}.{key}" if path else str(key), for a str key. */
static PyObject *
key_path(PyObject *path, PyObject *key)
{
    Py_ssize_t plen = PyUnicode_GET_LENGTH(path), klen = PyUnicode_GET_LENGTH(key);
    if (plen == 0) {
        Py_INCREF(key);
        return key;
    }
    if (PyUnicode_IS_ASCII(path) && PyUnicode_IS_ASCII(key)) {
        PyObject *result = PyUnicode_New(plen + 1 + klen, 127);
        if (result == NULL) {
            return NULL;
        }
        Py_UCS1 *data = PyUnicode_1BYTE_DATA(result);
        memcpy(data, PyUnicode_1BYTE_DATA(path), plen);
        data[plen] = '.';
        memcpy(data + plen + 1, PyUnicode_1BYTE_DATA(key), klen);
        return result;
    }
    Py_UCS4 maxchar = Py_MAX(PyUnicode_MAX_CHAR_VALUE(path), PyUnicode_MAX_CHAR_VALUE(key));
    PyObject *result = PyUnicode_New(plen + 1 + klen, maxchar);
    if (result == NULL) {
        return NULL;
    }
    if (PyUnicode_CopyCharacters(result, 0, path, 0, plen) < 0 ||
        PyUnicode_CopyCharacters(result, plen + 1, key, 0, klen) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    PyUnicode_WRITE(PyUnicode_KIND(result), PyUnicode_DATA(result), plen, '.');
    return result;
}

/* f"{path}[{index}]" */
static PyObject *
index_path(PyObject *path, Py_ssize_t index)
{
    char reversed[24], digits[32];
    int count = 0, n = 0;
    do {
        reversed[count++] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0);
    digits[n++] = '[';
    while (count > 0) {
        digits[n++] = reversed[--count];
    }
    digits[n++] = ']';
    Py_ssize_t plen = PyUnicode_GET_LENGTH(path);
    PyObject *result = PyUnicode_New(plen + n, PyUnicode_MAX_CHAR_VALUE(path));
    if (result == NULL) {
        return NULL;
    }
    if (PyUnicode_CopyCharacters(result, 0, path, 0, plen) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    int kind = PyUnicode_KIND(result);
    void *data = PyUnicode_DATA(result);
    for (int i = 0; i < n; i++) {
        PyUnicode_WRITE(kind, data, plen + i, (Py_UCS4)digits[i]);
    }
    return result;
}

/* value[:1] in _JSON_STARTS, for a str */
static inline int
starts_json(PyObject *text)
{
    if (PyUnicode_GET_LENGTH(text) == 0) {
        return 0;
    }
    Py_UCS4 first = PyUnicode_READ_CHAR(text, 0);
    return first == '{' || first == '[' || first == '%';
}

/* _decoded(value), a new reference: Python decodes a str that may hold JSON, nothing else. */
static PyObject *
decoded(PyObject *value)
{
    if (PyUnicode_CheckExact(value) && PyUnicode_GET_LENGTH(value) >= 2 && starts_json(value)) {
        return PyObject_CallOneArg(py_decoded, value);
    }
    Py_INCREF(value);
    return value;
}

static inline int
is_container(PyTypeObject *type)
{
    return type == &PyDict_Type || type == &PyList_Type;
}

static inline int
is_number(PyTypeObject *type)
{
    return type == &PyLong_Type || type == &PyFloat_Type || type == &PyBool_Type;
}

static inline int
is_json(PyTypeObject *type)
{
    return is_container(type) || is_number(type) || type == &PyUnicode_Type ||
           type == Py_TYPE(Py_None);
}

/* Every key of a dict is an exact str: lookups then never run Python code, and the keys sort. */
static int
str_keys(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
    }
    return 1;
}

/* `a != b` (1, 0, -1 error) for two values of one type that is not dict or list. */
static int
leaf_ne(PyObject *a, PyObject *b)
{
    PyTypeObject *type = Py_TYPE(a);
    if (type == &PyFloat_Type) {
        return PyFloat_AS_DOUBLE(a) != PyFloat_AS_DOUBLE(b); /* no identity shortcut: NaN */
    }
    if (type == &PyUnicode_Type) {
        return !unicode_equal(a, b);
    }
    if (type == &PyLong_Type || type == &PyBool_Type ||
        a == Py_None) {
        return PyObject_RichCompareBool(a, b, Py_NE); /* never unequal to themselves */
    }
    PyObject *result = PyObject_RichCompare(a, b, Py_NE);
    if (result == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

/* `a == b`, as leaf_ne. */
static int
leaf_eq(PyObject *a, PyObject *b)
{
    PyTypeObject *type = Py_TYPE(a);
    if (type == &PyFloat_Type) {
        return PyFloat_AS_DOUBLE(a) == PyFloat_AS_DOUBLE(b);
    }
    if (type == &PyUnicode_Type) {
        return unicode_equal(a, b);
    }
    if (type == &PyLong_Type || type == &PyBool_Type ||
        a == Py_None) {
        return PyObject_RichCompareBool(a, b, Py_EQ);
    }
    PyObject *result = PyObject_RichCompare(a, b, Py_EQ);
    if (result == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

/* func(*args) -> bool (1, 0, -1 error) */
static int
call_bool(PyObject *func, PyObject *a, PyObject *b)
{
    PyObject *args[2] = {a, b};
    PyObject *result = PyObject_Vectorcall(func, args, 2, NULL);
    if (result == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

/* One of the Python walks: func(section, path, old, new, out). */
static int
call_walk(PyObject *func, PyObject *section, PyObject *path, PyObject *old, PyObject *new,
          PyObject *out)
{
    PyObject *args[5] = {section, path, old, new, out};
    PyObject *result = PyObject_Vectorcall(func, args, 5, NULL);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* out.extend(flat_changes(section, old, new, path)) */
static int
flat_changes(PyObject *section, PyObject *old, PyObject *new, PyObject *path, PyObject *out)
{
    PyObject *args[4] = {section, old, new, path};
    PyObject *changes = PyObject_Vectorcall(py_flat_changes, args, 4, NULL);
    if (changes == NULL) {
        return -1;
    }
    int rc = extend(out, changes);
    Py_DECREF(changes);
    return rc;
}

/* --- _same ----------------------------------------------------------------------------------- */

enum { UNEQUAL = 0, SAME = 1, ENCODED_DIFFERENTLY = 2, UNKNOWN = 3 }; /* -1: an error */

/* A lone surrogate: msgspec cannot encode it (UnicodeEncodeError, which _same lets through). */
static int
has_surrogates(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        return 0;
    }
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < length; i++) {
        if (Py_UNICODE_IS_SURROGATE(PyUnicode_READ(kind, data, i))) {
            return 1;
        }
    }
    return 0;
}

/* One object on both sides: == holds; SAME if msgspec encodes it, else UNKNOWN. */
static int
encodes_json(PyObject *value, int depth)
{
    PyTypeObject *type = Py_TYPE(value);
    if (depth > MAX_DEPTH) {
        return UNKNOWN;
    }
    if (type == &PyUnicode_Type) {
        return has_surrogates(value) ? UNKNOWN : SAME;
    }
    if (is_number(type) || value == Py_None) {
        return SAME;
    }
    if (type == &PyDict_Type) {
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key) || has_surrogates(key)) {
                return UNKNOWN;
            }
            int result = encodes_json(item, depth + 1);
            if (result != SAME) {
                return result;
            }
        }
        return SAME;
    }
    if (type == &PyList_Type) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            int result = encodes_json(PyList_GET_ITEM(value, i), depth + 1);
            if (result != SAME) {
                return result;
            }
        }
        return SAME;
    }
    return UNKNOWN;
}

static int same_json(PyObject *a, PyObject *b, int depth);

/* Two dicts, in the order of Python's dict ==: size, then a's items looked up in b. */
static int
same_json_dicts(PyObject *a, PyObject *b, int depth)
{
    if (PyDict_GET_SIZE(a) != PyDict_GET_SIZE(b)) {
        return UNEQUAL;
    }
    /* While b's keys come in a's order, b's entry at the same position is the one a lookup
     * would find; after that, b's keys must all be str (a lookup among other keys could run
     * their __eq__). */
    int verdict = SAME, aligned = 1;
    Py_ssize_t pos = 0, other_pos = 0;
    PyObject *key, *value, *other_key, *other;
    while (PyDict_Next(a, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key) || has_surrogates(key)) {
            return UNKNOWN;
        }
        if (aligned && PyDict_Next(b, &other_pos, &other_key, &other) &&
            PyUnicode_CheckExact(other_key) && unicode_equal(key, other_key)) {
            /* other is b[key] */
        }
        else {
            if (aligned) {
                aligned = 0;
                if (!str_keys(b)) {
                    return UNKNOWN;
                }
            }
            other = PyDict_GetItemWithError(b, key);
            if (other == NULL) {
                return PyErr_Occurred() ? -1 : UNEQUAL;
            }
        }
        int result = same_json(value, other, depth + 1);
        if (result == ENCODED_DIFFERENTLY) {
            verdict = result; /* == may still be false further on: go on */
        }
        else if (result != SAME) {
            return result;
        }
    }
    return verdict;
}

/* Two lists, in the order of Python's list ==: length, then item by item. */
static int
same_json_lists(PyObject *a, PyObject *b, int depth)
{
    Py_ssize_t length = PyList_GET_SIZE(a);
    if (length != PyList_GET_SIZE(b)) {
        return UNEQUAL;
    }
    int verdict = SAME;
    for (Py_ssize_t i = 0; i < length; i++) {
        int result = same_json(PyList_GET_ITEM(a, i), PyList_GET_ITEM(b, i), depth + 1);
        if (result == ENCODED_DIFFERENTLY) {
            verdict = result;
        }
        else if (result != SAME) {
            return result;
        }
    }
    return verdict;
}

/* Two values inside containers: Python's `a == b` (with its identity shortcut), then whether
 * their msgspec encodings are equal. Never runs Python code: it answers UNKNOWN instead. */
static int
same_json(PyObject *a, PyObject *b, int depth)
{
    if (a == b) {
        return encodes_json(a, depth);
    }
    if (depth > MAX_DEPTH) {
        return UNKNOWN;
    }
    PyTypeObject *ta = Py_TYPE(a), *tb = Py_TYPE(b);
    if (!is_json(ta) || !is_json(tb)) {
        return UNKNOWN;
    }
    if (ta == tb) {
        if (ta == &PyDict_Type) {
            return same_json_dicts(a, b, depth);
        }
        if (ta == &PyList_Type) {
            return same_json_lists(a, b, depth);
        }
        if (ta == &PyUnicode_Type) {
            if (!unicode_equal(a, b)) {
                return UNEQUAL;
            }
            return has_surrogates(a) ? UNKNOWN : SAME;
        }
        if (ta == &PyFloat_Type) {
            double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
            if (x != y) {
                return UNEQUAL; /* NaN included: two NaN objects are not == */
            }
            return signbit(x) == signbit(y) ? SAME : ENCODED_DIFFERENTLY; /* 0.0, -0.0 */
        }
        if (ta == &PyLong_Type) {
            int equal = PyObject_RichCompareBool(a, b, Py_EQ);
            return equal < 0 ? -1 : equal ? SAME : UNEQUAL;
        }
        return UNEQUAL; /* True and False, None: one object each, and these are two */
    }
    if (is_number(ta) && is_number(tb)) { /* 1 == True == 1.0, encoded 1, true, 1.0 */
        int equal = PyObject_RichCompareBool(a, b, Py_EQ);
        return equal < 0 ? -1 : equal ? ENCODED_DIFFERENTLY : UNEQUAL;
    }
    return UNEQUAL; /* JSON values of different kinds are never == */
}

/* _same(a, b): 1, 0 or -1 (an error). */
static int
same(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    PyTypeObject *type = Py_TYPE(a);
    if (type != Py_TYPE(b)) {
        return 0;
    }
    if (!is_container(type)) {
        int ne = leaf_ne(a, b);
        return ne < 0 ? -1 : !ne;
    }
    int result =
        type == &PyDict_Type ? same_json_dicts(a, b, 0) : same_json_lists(a, b, 0);
    if (result == UNKNOWN) {
        return call_bool(py_same, a, b);
    }
    return result < 0 ? -1 : result == SAME;
}

/* `a == b and _same(a, b)` for two dicts or two lists (_walk_dicts' test of a shared key). */
static int
equal_and_same(PyObject *a, PyObject *b)
{
    int result;
    if (a == b) { /* == holds: identity on every item, and lookups of str keys run no code */
        result = PyList_CheckExact(a) || str_keys(a) ? SAME : UNKNOWN;
    }
    else {
        result = PyDict_CheckExact(a) ? same_json_dicts(a, b, 0) : same_json_lists(a, b, 0);
    }
    if (result == UNKNOWN) {
        int equal = leaf_eq(a, b); /* the generic ==, as Python evaluates it */
        if (equal <= 0) {
            return equal;
        }
        return call_bool(py_same, a, b);
    }
    return result < 0 ? -1 : result == SAME;
}

/* --- the walk -------------------------------------------------------------------------------- */

static int walk(PyObject *section, PyObject *path, PyObject *old, PyObject *new, PyObject *out,
                int depth);
static int walk_dicts(PyObject *section, PyObject *path, PyObject *old, PyObject *new,
                      PyObject *out, int depth);
static int walk_lists(PyObject *section, PyObject *path, PyObject *old, PyObject *new,
                      PyObject *out, int depth);

/* out.extend(_new(Change, (section, p, kind, v, None) or (..., None, v)) for p, v in
 * flatten(value, path)): kind is s_removed (the value before) or s_added (after). */
static int
flatten(PyObject *section, PyObject *kind, PyObject *value, PyObject *path, PyObject *out,
        int depth)
{
    int rc = -1;
    PyObject *keys = NULL, *child = NULL;
    value = decoded(value);
    if (value == NULL) {
        return -1;
    }
    PyTypeObject *type = Py_TYPE(value);
    int nonempty = (type == &PyDict_Type && PyDict_GET_SIZE(value) > 0) ||
                   (type == &PyList_Type && PyList_GET_SIZE(value) > 0);
    if (depth > MAX_DEPTH || (type == &PyDict_Type && nonempty && !str_keys(value)) ||
        (!is_container(type) && (PyDict_Check(value) || PyList_Check(value)))) {
        /* the Python flatten: too deep, keys that are not str, a dict or list subclass */
        PyObject *args[2] = {value, path};
        PyObject *pairs = PyObject_Vectorcall(py_flatten, args, 2, NULL);
        PyObject *iterator = pairs ? PyObject_GetIter(pairs) : NULL;
        Py_XDECREF(pairs);
        if (iterator == NULL) {
            goto done;
        }
        PyObject *pair;
        while ((pair = PyIter_Next(iterator)) != NULL) {
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "flatten must yield (path, value) pairs");
                Py_DECREF(pair);
                break;
            }
            PyObject *leaf_path = PyTuple_GET_ITEM(pair, 0), *leaf = PyTuple_GET_ITEM(pair, 1);
            int appended = kind == s_removed
                               ? append_change(out, section, leaf_path, kind, leaf, Py_None)
                               : append_change(out, section, leaf_path, kind, Py_None, leaf);
            Py_DECREF(pair);
            if (appended < 0) {
                break;
            }
        }
        Py_DECREF(iterator);
        rc = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    if (type == &PyDict_Type && nonempty) {
        keys = PyDict_Keys(value);
        if (keys == NULL || PyList_Sort(keys) < 0) { /* sorted(value, key=str): str keys */
            goto done;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
            PyObject *key = PyList_GET_ITEM(keys, i);
            PyObject *item = PyDict_GetItemWithError(value, key);
            if (item == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, key);
                }
                goto done;
            }
            Py_INCREF(item);
            child = key_path(path, key);
            int failed = child == NULL || flatten(section, kind, item, child, out, depth + 1) < 0;
            Py_DECREF(item);
            Py_CLEAR(child);
            if (failed) {
                goto done;
            }
        }
    }
    else if (type == &PyList_Type && nonempty) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            PyObject *item = PyList_GET_ITEM(value, i);
            Py_INCREF(item);
            child = index_path(path, i);
            int failed = child == NULL || flatten(section, kind, item, child, out, depth + 1) < 0;
            Py_DECREF(item);
            Py_CLEAR(child);
            if (failed) {
                goto done;
            }
        }
    }
    else if ((kind == s_removed ? append_change(out, section, path, kind, value, Py_None)
                                : append_change(out, section, path, kind, Py_None, value)) < 0) {
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(keys);
    Py_DECREF(value);
    return rc;
}

/* _walk: the changes between two values at path (embedded JSON decoded first). */
static int
walk(PyObject *section, PyObject *path, PyObject *old, PyObject *new, PyObject *out, int depth)
{
    int rc = -1;
    old = decoded(old);
    if (old == NULL) {
        return -1;
    }
    new = decoded(new);
    if (new == NULL) {
        Py_DECREF(old);
        return -1;
    }
    PyTypeObject *kind = Py_TYPE(old), *other = Py_TYPE(new);
    if (depth > MAX_DEPTH || !is_json(kind) || !is_json(other)) {
        rc = call_walk(py_walk, section, path, old, new, out);
        goto done;
    }
    int equal = same(old, new);
    if (equal != 0) {
        rc = equal < 0 ? -1 : 0;
        goto done;
    }
    if (kind == other && kind == &PyDict_Type && PyDict_GET_SIZE(old) && PyDict_GET_SIZE(new)) {
        rc = walk_dicts(section, path, old, new, out, depth);
    }
    else if (kind == other && kind == &PyList_Type && PyList_GET_SIZE(old) &&
             PyList_GET_SIZE(new)) {
        rc = walk_lists(section, path, old, new, out, depth);
    }
    else if (!is_container(kind) && !is_container(other)) {
        rc = append_change(out, section, path, s_changed, old, new); /* two different leaves */
    }
    else {
        rc = flat_changes(section, old, new, path, out);
    }
done:
    Py_DECREF(old);
    Py_DECREF(new);
    return rc;
}

/* _differing: _walk for two values known to be unequal or of different types. */
static int
differing(PyObject *section, PyObject *path, PyObject *old, PyObject *new, PyObject *out,
          int depth)
{
    PyTypeObject *kind = Py_TYPE(old);
    if (kind == Py_TYPE(new) && !is_container(kind) &&
        (kind != &PyUnicode_Type || (!starts_json(old) && !starts_json(new)))) {
        int ne = leaf_ne(old, new);
        if (ne <= 0) {
            return ne;
        }
        return append_change(out, section, path, s_changed, old, new);
    }
    return walk(section, path, old, new, out, depth);
}

/* The second half of _walk_dicts for a key both dicts have, its values known to differ. */
static int
walk_shared_key(PyObject *section, PyObject *child, PyObject *a, PyObject *b, PyObject *out,
                int depth)
{
    PyTypeObject *kind = Py_TYPE(a), *other = Py_TYPE(b);
    if (kind == other && !is_container(kind) &&
        (kind != &PyUnicode_Type || (!starts_json(a) && !starts_json(b)))) {
        return append_change(out, section, child, s_changed, a, b); /* known to differ */
    }
    if (kind == &PyDict_Type && other == &PyDict_Type && PyDict_GET_SIZE(a) &&
        PyDict_GET_SIZE(b)) {
        return walk_dicts(section, child, a, b, out, depth + 1);
    }
    if (kind == &PyList_Type && other == &PyList_Type && PyList_GET_SIZE(a) &&
        PyList_GET_SIZE(b)) {
        return walk_lists(section, child, a, b, out, depth + 1);
    }
    return walk(section, child, a, b, out, depth + 1);
}

/* The first half of _walk_dicts for a key both dicts have: do its values differ? */
static int
values_differ(PyObject *a, PyObject *b)
{
    PyTypeObject *kind = Py_TYPE(a);
    if (kind != Py_TYPE(b)) {
        return 1;
    }
    if (is_container(kind)) {
        int equal = equal_and_same(a, b);
        return equal < 0 ? -1 : !equal;
    }
    return leaf_ne(a, b);
}

typedef struct {
    PyObject *key, *a, *b;
} Entry;

/* differing.sort() for distinct str keys (an insertion sort: there are few). */
static void
sort_entries(Entry *entries, Py_ssize_t count)
{
    for (Py_ssize_t i = 1; i < count; i++) {
        Entry entry = entries[i];
        Py_ssize_t j = i;
        /* two different str: PyUnicode_Compare cannot fail, and the order is Python's */
        while (j > 0 && PyUnicode_Compare(entries[j - 1].key, entry.key) > 0) {
            entries[j] = entries[j - 1];
            j--;
        }
        entries[j] = entry;
    }
}

/* _walk_dicts when both dicts have the same str keys in the same order (consecutive items
 * usually do): then old.keys() == new.keys() and the values pair up by position, with no
 * lookup. 1 when done, 0 when the keys are not aligned (nothing was done), -1 an error. */
static int
walk_aligned_dicts(PyObject *section, PyObject *path, PyObject *old, PyObject *new,
                   PyObject *out, int depth)
{
    Py_ssize_t size = PyDict_GET_SIZE(old), count = 0, taken = 0;
    if (size != PyDict_GET_SIZE(new)) {
        return 0;
    }
    Entry stack[32], *entries = size <= 32 ? stack : PyMem_Malloc(size * sizeof(Entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = -1;
    Py_ssize_t pos = 0, other_pos = 0;
    PyObject *key, *a, *other_key, *b;
    while (PyDict_Next(old, &pos, &key, &a)) {
        if (!PyDict_Next(new, &other_pos, &other_key, &b) || !PyUnicode_CheckExact(key) ||
            !PyUnicode_CheckExact(other_key) || !unicode_equal(key, other_key)) {
            rc = 0; /* not aligned: the general walk */
            goto done;
        }
        entries[taken++] = (Entry){Py_NewRef(key), Py_NewRef(a), Py_NewRef(b)};
    }
    /* differing: the entries whose values differ, moved to the front in dict order. Before
     * step i: [0, count) differ, [count, i) are released (NULL), [i, taken) are to be seen. */
    for (Py_ssize_t i = 0; i < taken; i++) {
        int differs = values_differ(entries[i].a, entries[i].b);
        if (differs < 0) {
            goto done;
        }
        if (differs) {
            Entry released = entries[count];
            entries[count++] = entries[i];
            entries[i] = released;
        }
        else {
            Py_CLEAR(entries[i].key);
            Py_CLEAR(entries[i].a);
            Py_CLEAR(entries[i].b);
        }
    }
    sort_entries(entries, count);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *child = key_path(path, entries[i].key);
        if (child == NULL) {
            goto done;
        }
        int failed = walk_shared_key(section, child, entries[i].a, entries[i].b, out, depth);
        Py_DECREF(child);
        if (failed < 0) {
            goto done;
        }
    }
    rc = 1;
done:
    for (Py_ssize_t i = 0; i < taken; i++) {
        Py_XDECREF(entries[i].key);
        Py_XDECREF(entries[i].a);
        Py_XDECREF(entries[i].b);
    }
    if (entries != stack) {
        PyMem_Free(entries);
    }
    return rc;
}

/* _walk_dicts: two non-empty dicts that differ; the keys whose values differ, in sorted order. */
static int
walk_dicts(PyObject *section, PyObject *path, PyObject *old, PyObject *new, PyObject *out,
           int depth)
{
    if (depth > MAX_DEPTH) {
        return call_walk(py_walk_dicts, section, path, old, new, out);
    }
    int aligned = walk_aligned_dicts(section, path, old, new, out, depth);
    if (aligned != 0) {
        return aligned < 0 ? -1 : 0;
    }
    if (!str_keys(old) || !str_keys(new)) {
        return call_walk(py_walk_dicts, section, path, old, new, out);
    }
    int rc = -1;
    PyObject *differ = NULL, *keys = NULL, *iterator = NULL, *key = NULL, *child = NULL;
    PyObject *a = NULL, *b = NULL;
    Py_ssize_t pos = 0;
    PyObject *value;

    /* same_keys = old.keys() == new.keys() */
    int same_keys = PyDict_GET_SIZE(old) == PyDict_GET_SIZE(new);
    while (same_keys && PyDict_Next(old, &pos, &key, &value)) {
        same_keys = PyDict_Contains(new, key);
        if (same_keys < 0) {
            key = NULL;
            goto done;
        }
    }
    key = NULL;
    differ = PyList_New(0);
    if (differ == NULL) {
        goto done;
    }
    if (!same_keys) { /* keys = old.keys() | new.keys(), the set Python iterates */
        PyObject *old_keys = PyObject_CallMethodNoArgs(old, s_keys);
        PyObject *new_keys = old_keys ? PyObject_CallMethodNoArgs(new, s_keys) : NULL;
        keys = new_keys ? PyNumber_Or(old_keys, new_keys) : NULL;
        Py_XDECREF(old_keys);
        Py_XDECREF(new_keys);
        iterator = keys ? PyObject_GetIter(keys) : NULL;
        if (iterator == NULL) {
            goto done;
        }
    }
    pos = 0;
    for (;;) {
        if (same_keys) {
            if (!PyDict_Next(old, &pos, &key, &value)) {
                break;
            }
            Py_INCREF(key);
        }
        else {
            key = PyIter_Next(iterator);
            if (key == NULL) {
                if (PyErr_Occurred()) {
                    goto done;
                }
                break;
            }
        }
        int differs;
        if (!same_keys && (PyDict_Contains(new, key) != 1 || PyDict_Contains(old, key) != 1)) {
            differs = 1; /* only one side has it (str keys: no error is possible) */
        }
        else {
            a = same_keys ? value : PyDict_GetItemWithError(old, key);
            b = a ? PyDict_GetItemWithError(new, key) : NULL;
            if (b == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, key);
                }
                a = NULL;
                goto done;
            }
            Py_INCREF(a);
            Py_INCREF(b);
            differs = values_differ(a, b);
            Py_CLEAR(a);
            Py_CLEAR(b);
        }
        if (differs < 0 || (differs && PyList_Append(differ, key) < 0)) {
            goto done;
        }
        Py_CLEAR(key);
    }
    if (PyList_GET_SIZE(differ) == 0) {
        rc = 0;
        goto done;
    }
    if (PyList_Sort(differ) < 0) { /* str keys: the order differing.sort() gives */
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(differ); i++) {
        PyObject *name = PyList_GET_ITEM(differ, i); /* differ is ours: it stays as it is */
        child = key_path(path, name);
        if (child == NULL) {
            goto done;
        }
        int in_new = PyDict_Contains(new, name), in_old = PyDict_Contains(old, name);
        int failed;
        if (same_keys || (in_new == 1 && in_old == 1)) {
            a = PyDict_GetItemWithError(old, name);
            b = a ? PyDict_GetItemWithError(new, name) : NULL;
            if (b == NULL) {
                a = NULL;
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, name);
                }
                goto done;
            }
            Py_INCREF(a);
            Py_INCREF(b);
            failed = walk_shared_key(section, child, a, b, out, depth) < 0;
            Py_CLEAR(a);
            Py_CLEAR(b);
        }
        else {
            PyObject *gone = in_new != 1 ? old : new;
            a = PyDict_GetItemWithError(gone, name);
            if (a == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, name);
                }
                goto done;
            }
            Py_INCREF(a);
            failed = flatten(section, gone == old ? s_removed : s_added, a, child, out,
                             depth + 1) < 0;
            Py_CLEAR(a);
        }
        Py_CLEAR(child);
        if (failed) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(key);
    Py_XDECREF(child);
    Py_XDECREF(iterator);
    Py_XDECREF(keys);
    Py_XDECREF(differ);
    return rc;
}

/* _walk_lists: two non-empty lists that differ, compared position by position. */
static int
walk_lists(PyObject *section, PyObject *path, PyObject *old, PyObject *new, PyObject *out,
           int depth)
{
    if (depth > MAX_DEPTH) {
        return call_walk(py_walk_lists, section, path, old, new, out);
    }
    Py_ssize_t shared = Py_MIN(PyList_GET_SIZE(old), PyList_GET_SIZE(new));
    for (Py_ssize_t index = 0; index < shared; index++) {
        PyObject *a = PyList_GetItem(old, index), *b = PyList_GetItem(new, index);
        if (a == NULL || b == NULL) {
            return -1;
        }
        Py_INCREF(a);
        Py_INCREF(b);
        PyTypeObject *kind = Py_TYPE(a);
        int equal = 0;
        if (kind == Py_TYPE(b) && !is_container(kind)) {
            equal = leaf_eq(a, b);
        }
        PyObject *child = NULL;
        int failed = equal < 0;
        if (!failed && !equal) {
            child = index_path(path, index);
            failed = child == NULL || differing(section, child, a, b, out, depth + 1) < 0;
        }
        Py_XDECREF(child);
        Py_DECREF(a);
        Py_DECREF(b);
        if (failed) {
            return -1;
        }
    }
    PyObject *sides[2] = {old, new};
    for (int side = 0; side < 2; side++) {
        for (Py_ssize_t index = shared; index < PyList_GET_SIZE(sides[side]); index++) {
            PyObject *item = PyList_GET_ITEM(sides[side], index);
            PyObject *child = index_path(path, index);
            if (child == NULL) {
                return -1;
            }
            Py_INCREF(item);
            int failed =
                flatten(section, side == 0 ? s_removed : s_added, item, child, out, depth + 1);
            Py_DECREF(item);
            Py_DECREF(child);
            if (failed < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* --- relationships --------------------------------------------------------------------------- */

/* A field of a relationship for `x or y or default`: 1 a non-empty str, 0 falsy (absent, None,
 * ""), -1 an error, -2 anything else (the Python _relationship_label decides). */
static int
label_part(PyObject *relationship, PyObject *name, PyObject **value)
{
    *value = PyDict_GetItemWithError(relationship, name);
    if (*value == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (*value == Py_None) {
        return 0;
    }
    if (!PyUnicode_CheckExact(*value)) {
        return -2;
    }
    return PyUnicode_GET_LENGTH(*value) > 0;
}

/* f"{name} {type} {target}" for three str */
static PyObject *
join_label(PyObject *name, PyObject *type, PyObject *target)
{
    PyObject *parts[3] = {name, type, target};
    Py_ssize_t length = 2, at = 0;
    Py_UCS4 maxchar = 127;
    for (int i = 0; i < 3; i++) {
        length += PyUnicode_GET_LENGTH(parts[i]);
        maxchar = Py_MAX(maxchar, PyUnicode_MAX_CHAR_VALUE(parts[i]));
    }
    PyObject *label = PyUnicode_New(length, maxchar);
    if (label == NULL) {
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            PyUnicode_WRITE(PyUnicode_KIND(label), PyUnicode_DATA(label), at++, ' ');
        }
        Py_ssize_t part = PyUnicode_GET_LENGTH(parts[i]);
        if (PyUnicode_CopyCharacters(label, at, parts[i], 0, part) < 0) {
            Py_DECREF(label);
            return NULL;
        }
        at += part;
    }
    return label;
}

/* _relationship_label: "<name> <resourceType> <resourceId or resourceName>". */
static PyObject *
relationship_label(PyObject *relationship)
{
    if (!PyDict_CheckExact(relationship) || !str_keys(relationship)) {
        return PyObject_CallOneArg(py_relationship_label, relationship);
    }
    PyObject *target, *name, *type;
    int found = label_part(relationship, s_resource_id, &target);
    if (found == 0) {
        found = label_part(relationship, s_resource_name, &target);
        if (found == 0) {
            target = s_question;
        }
    }
    if (found >= 0) {
        found = label_part(relationship, s_name, &name);
        if (found == 0) {
            found = label_part(relationship, s_relationship_name, &name);
            if (found == 0) {
                name = s_related_to;
            }
        }
    }
    if (found == -1) {
        return NULL;
    }
    type = PyDict_GetItemWithError(relationship, s_resource_type);
    if (type == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (type == NULL) {
        type = s_question;
    }
    if (found == -2 || !PyUnicode_CheckExact(type)) {
        return PyObject_CallOneArg(py_relationship_label, relationship);
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(name);
    PyObject *stripped;
    if (length > 0 && (Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(name, 0)) ||
                       Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(name, length - 1)))) {
        stripped = PyObject_CallMethodNoArgs(name, s_strip);
        if (stripped == NULL) {
            return NULL;
        }
    }
    else {
        stripped = Py_NewRef(name);
    }
    PyObject *label = join_label(stripped, type, target);
    Py_DECREF(stripped);
    return label;
}

/* Up to this many relationships, their labels are kept in a list and compared by scanning it
 * (a relationship section holds a few); more go into a set. */
#define FEW_LABELS 16

/* label in labels, for a list of str */
static int
has_label(PyObject *labels, PyObject *label)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(labels); i++) {
        if (unicode_equal(PyList_GET_ITEM(labels, i), label)) {
            return 1;
        }
    }
    return 0;
}

/* _labels: the labels of a section's relationships, each once (a set: a list of distinct str
 * while there are few, else a set or the frozenset of the Python _labels). */
static PyObject *
labels(PyObject *relationships)
{
    int truth = PyObject_IsTrue(relationships); /* relationships or [] */
    if (truth < 0) {
        return NULL;
    }
    if (truth && !PyList_CheckExact(relationships)) {
        return PyObject_CallOneArg(py_labels, relationships);
    }
    if (!truth) {
        return PyList_New(0);
    }
    PyObject *result =
        PyList_GET_SIZE(relationships) <= FEW_LABELS ? PyList_New(0) : PySet_New(NULL);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(relationships); i++) {
        PyObject *relationship = PyList_GetItem(relationships, i);
        if (relationship == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        Py_INCREF(relationship);
        PyObject *label = relationship_label(relationship);
        Py_DECREF(relationship);
        if (label == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        if (PyList_CheckExact(result) && !PyUnicode_CheckExact(label)) {
            Py_SETREF(result, PySet_New(result)); /* only str can be scanned for */
            if (result == NULL) {
                Py_DECREF(label);
                return NULL;
            }
        }
        int failed = PyList_CheckExact(result)
                         ? !has_label(result, label) && PyList_Append(result, label) < 0
                         : PySet_Add(result, label) < 0;
        Py_DECREF(label);
        if (failed) {
            Py_DECREF(result);
            return NULL;
        }
    }
    return result;
}

/* sorted(a - b), for two results of labels() */
static PyObject *
sorted_difference(PyObject *a, PyObject *b)
{
    PyObject *result;
    if (PyList_CheckExact(a) && PyList_CheckExact(b)) {
        result = PyList_New(0);
        for (Py_ssize_t i = 0; result != NULL && i < PyList_GET_SIZE(a); i++) {
            PyObject *label = PyList_GET_ITEM(a, i);
            if (!has_label(b, label) && PyList_Append(result, label) < 0) {
                Py_CLEAR(result);
            }
        }
    }
    else {
        PyObject *left = PyList_CheckExact(a) ? PySet_New(a) : Py_NewRef(a);
        PyObject *right = left && PyList_CheckExact(b) ? PySet_New(b) : Py_XNewRef(b);
        PyObject *difference = left && right ? PyNumber_Subtract(left, right) : NULL;
        Py_XDECREF(left);
        Py_XDECREF(right);
        result = difference ? PySequence_List(difference) : NULL;
        Py_XDECREF(difference);
    }
    if (result != NULL && PyList_Sort(result) < 0) {
        Py_CLEAR(result);
    }
    return result;
}

/* The last `new` relationships compared and their labels (_last_labels in diff.py): a timeline
 * compares each item twice, with the one before it and with the one after it. The reference
 * to the relationships keeps their identity from being reused by another object. */
static PyObject *last_relationships, *last_labels;

/* _relationship_changes: added labels, then removed ones, each sorted. */
static int
relationship_changes(PyObject *section, PyObject *old, PyObject *new, PyObject *out)
{
    int rc = -1;
    PyObject *before = NULL, *after = NULL, *added = NULL, *removed = NULL;
    before = old == last_relationships && old != Py_None ? Py_NewRef(last_labels) : labels(old);
    after = before ? labels(new) : NULL;
    if (after != NULL) {
        Py_XSETREF(last_relationships, Py_NewRef(new));
        Py_XSETREF(last_labels, Py_NewRef(after));
    }
    added = after ? sorted_difference(after, before) : NULL;
    removed = added ? sorted_difference(before, after) : NULL;
    if (removed == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(added); i++) {
        PyObject *label = PyList_GET_ITEM(added, i);
        if (append_change(out, section, label, s_added, Py_None, label) < 0) {
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(removed); i++) {
        PyObject *label = PyList_GET_ITEM(removed, i);
        if (append_change(out, section, label, s_removed, label, Py_None) < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(before);
    Py_XDECREF(after);
    Py_XDECREF(added);
    Py_XDECREF(removed);
    return rc;
}

/* --- diff_sections --------------------------------------------------------------------------- */

/* found.sort(key=path) for found = changes[start:], the section's changes: nothing to do when
 * the paths never decrease (a stable sort keeps such an order, equal paths included);
 * otherwise Python's own sort of that slice. */
static int
sort_by_path(PyObject *changes, Py_ssize_t start)
{
    Py_ssize_t length = PyList_GET_SIZE(changes);
    int ordered = 1;
    for (Py_ssize_t i = start + 1; i < length && ordered; i++) {
        PyObject *found = changes;
        PyObject *first = PyList_GET_ITEM(found, i - 1), *second = PyList_GET_ITEM(found, i);
        if (!PyTuple_Check(first) || !PyTuple_Check(second) || PyTuple_GET_SIZE(first) < 2 ||
            PyTuple_GET_SIZE(second) < 2) {
            ordered = 0;
            break;
        }
        PyObject *a = PyTuple_GET_ITEM(first, 1), *b = PyTuple_GET_ITEM(second, 1);
        if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b)) {
            ordered = 0;
            break;
        }
        int order = PyUnicode_Compare(a, b);
        if (order == -1 && PyErr_Occurred()) {
            return -1;
        }
        ordered = order <= 0;
    }
    if (ordered) {
        return 0;
    }
    PyObject *found = PyList_GetSlice(changes, start, length);
    PyObject *sort = found ? PyObject_GetAttr(found, s_sort) : NULL;
    PyObject *names = sort ? PyTuple_Pack(1, s_key) : NULL;
    PyObject *args[1] = {py_path_key};
    PyObject *result = names ? PyObject_Vectorcall(sort, args, 0, names) : NULL;
    int rc = result ? PyList_SetSlice(changes, start, length, found) : -1;
    Py_XDECREF(result);
    Py_XDECREF(names);
    Py_XDECREF(sort);
    Py_XDECREF(found);
    return rc;
}

/* One section (not relationships): python_diff_sections' loop body. */
static int
diff_section(PyObject *section, PyObject *old, PyObject *new, PyObject *changes)
{
    int rc = -1;
    old = decoded(old);
    if (old == NULL) {
        return -1;
    }
    new = decoded(new);
    if (new == NULL) {
        Py_DECREF(old);
        return -1;
    }
    int equal = same(old, new);
    if (equal != 0) {
        rc = equal < 0 ? -1 : 0;
        goto done;
    }
    PyTypeObject *kind = Py_TYPE(old);
    int walked = kind == Py_TYPE(new) &&
                 ((kind == &PyDict_Type && PyDict_GET_SIZE(old) && PyDict_GET_SIZE(new)) ||
                  (kind == &PyList_Type && PyList_GET_SIZE(old) && PyList_GET_SIZE(new)));
    if (!walked) {
        rc = flat_changes(section, old, new, s_empty, changes);
        goto done;
    }
    /* found: the section's changes, appended to changes from start on */
    Py_ssize_t start = PyList_GET_SIZE(changes);
    int failed = kind == &PyDict_Type ? walk_dicts(section, s_empty, old, new, changes, 0)
                                      : walk_lists(section, s_empty, old, new, changes, 0);
    rc = failed < 0 ? -1 : sort_by_path(changes, start);
done:
    Py_DECREF(old);
    Py_DECREF(new);
    return rc;
}

static PyObject *
diff_sections(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "diff_sections(before, after) takes two arguments");
        return NULL;
    }
    if (change_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_diffcore.configure() was not called");
        return NULL;
    }
    PyObject *before = args[0], *after = args[1];
    if (!PyDict_CheckExact(before) || !PyDict_CheckExact(after)) {
        return PyObject_Vectorcall(py_diff_sections, args, 2, NULL);
    }
    PyObject *changes = PyList_New(0);
    if (changes == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(sections); i++) {
        PyObject *section = PyTuple_GET_ITEM(sections, i);
        PyObject *old = PyDict_GetItemWithError(before, section);
        if (old == NULL && PyErr_Occurred()) {
            goto error;
        }
        PyObject *new = PyDict_GetItemWithError(after, section);
        if (new == NULL && PyErr_Occurred()) {
            goto error;
        }
        old = Py_NewRef(old ? old : Py_None);
        new = Py_NewRef(new ? new : Py_None);
        int failed;
        int relationships = PyUnicode_Compare(section, s_relationships) == 0;
        if (relationships) {
            int equal = same(old, new);
            failed = equal < 0 || (!equal && relationship_changes(section, old, new, changes) < 0);
        }
        else {
            failed = diff_section(section, old, new, changes) < 0;
        }
        Py_DECREF(old);
        Py_DECREF(new);
        if (failed) {
            goto error;
        }
    }
    return changes;
error:
    Py_DECREF(changes);
    return NULL;
}

/* --- a timeline's entries -------------------------------------------------------------------- */

/* A named tuple type that adds nothing to tuple's layout (Change and Entry must be one). */
static int
tuple_layout(PyObject *candidate)
{
    if (!PyType_Check(candidate)) {
        return 0;
    }
    PyTypeObject *type = (PyTypeObject *)candidate;
    return PyType_IsSubtype(type, &PyTuple_Type) &&
           type->tp_basicsize == PyTuple_Type.tp_basicsize &&
           type->tp_itemsize == PyTuple_Type.tp_itemsize && type->tp_dictoffset == 0 &&
           type->tp_weaklistoffset == 0;
}

/* item.status in gone: 1, 0, or -1 with an exception set. */
static int
is_gone(PyObject *item, PyObject *gone)
{
    PyObject *status = PyObject_GetAttr(item, s_status);
    if (status == NULL) {
        return -1;
    }
    int found = PySet_Contains(gone, status);
    Py_DECREF(status);
    return found;
}

/* tuple.__new__(entry, (item, changes, note)) */
static PyObject *
entry_new(PyTypeObject *entry, PyObject *item, PyObject *changes, PyObject *note)
{
    PyTupleObject *made = PyObject_GC_NewVar(PyTupleObject, entry, 3);
    if (made == NULL) {
        return NULL;
    }
    made->ob_item[0] = Py_NewRef(item);
    made->ob_item[1] = Py_NewRef(changes);
    made->ob_item[2] = Py_NewRef(note);
    PyObject_GC_Track(made);
    return (PyObject *)made;
}

/* python_entries(items, previous) of diff.py, statement by statement: one Entry per item, each
 * item compared with the one before it (the first with `previous`, the baseline). The sections
 * of an item are asked for once, not once as the new and again as the old side of a diff. */
static PyObject *
timeline_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "timeline_entries(items, previous, entry, gone) takes four arguments");
        return NULL;
    }
    if (change_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_diffcore.configure() was not called");
        return NULL;
    }
    PyObject *items = args[0], *gone = args[3];
    if (!PyList_CheckExact(items) || !tuple_layout(args[2]) || !PyFrozenSet_CheckExact(gone)) {
        PyErr_SetString(PyExc_TypeError,
                        "timeline_entries needs a list, an item or None, a named tuple type "
                        "and a frozenset");
        return NULL;
    }
    PyTypeObject *entry_type = (PyTypeObject *)args[2];
    PyObject *entries = PyList_New(0);
    if (entries == NULL) {
        return NULL;
    }
    PyObject *previous = Py_NewRef(args[1]), *previous_sections = NULL, *item = NULL;
    int previous_gone = previous == Py_None ? 0 : is_gone(previous, gone);
    if (previous_gone < 0) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        item = Py_NewRef(PyList_GET_ITEM(items, i));
        PyObject *sections = NULL, *changes, *note;
        int item_gone = is_gone(item, gone);
        if (item_gone < 0) {
            goto error;
        }
        if (item_gone) {
            /* Also when it is the first item seen: a deletion is never a first recording. */
            changes = PyTuple_New(0);
            note = s_gone;
        }
        else if (previous == Py_None) {
            changes = PyTuple_New(0);
            note = s_first_recorded;
        }
        else if (previous_gone) {
            changes = PyTuple_New(0);
            note = s_returned;
        }
        else {
            if (previous_sections == NULL) {
                previous_sections = PyObject_GetAttr(previous, s_sections_attr);
                if (previous_sections == NULL) {
                    goto error;
                }
            }
            sections = PyObject_GetAttr(item, s_sections_attr);
            if (sections == NULL) {
                goto error;
            }
            PyObject *pair[2] = {previous_sections, sections};
            PyObject *found = diff_sections(module, pair, 2);
            if (found == NULL) {
                Py_DECREF(sections);
                goto error;
            }
            changes = PySequence_Tuple(found);
            Py_DECREF(found);
            note = changes != NULL && PyTuple_GET_SIZE(changes) ? s_changed : s_unchanged;
        }
        if (changes == NULL) {
            Py_XDECREF(sections);
            goto error;
        }
        PyObject *made = entry_new(entry_type, item, changes, note);
        Py_DECREF(changes);
        if (made == NULL || PyList_Append(entries, made) < 0) {
            Py_XDECREF(made);
            Py_XDECREF(sections);
            goto error;
        }
        Py_DECREF(made);
        Py_SETREF(previous, item);
        item = NULL;
        previous_gone = item_gone;
        Py_XSETREF(previous_sections, sections);
    }
    Py_DECREF(previous);
    Py_XDECREF(previous_sections);
    return entries;
error:
    Py_XDECREF(item);
    Py_DECREF(previous);
    Py_XDECREF(previous_sections);
    Py_DECREF(entries);
    return NULL;
}

/* _same(a, b) as C computes it, for the tests of its edge cases. */
static PyObject *
same_py(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "same(a, b) takes two arguments");
        return NULL;
    }
    if (change_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_diffcore.configure() was not called");
        return NULL;
    }
    int result = same(args[0], args[1]);
    if (result < 0) {
        return NULL;
    }
    return PyBool_FromLong(result);
}

/* --- percent-decoding ------------------------------------------------------------------------ */

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* urllib.parse.unquote(text) for an ASCII str (None for any other str, which the caller hands to
 * urllib): every `%XX` with two hex digits becomes its byte, any other `%` stays, and the bytes
 * are read as UTF-8 with errors="replace", as unquote does with its default arguments. Policy
 * documents arrive URL-encoded, and urllib's pure-Python loop is most of their decoding time. */
static PyObject *
unquote(PyObject *module, PyObject *text)
{
    if (!PyUnicode_CheckExact(text)) {
        PyErr_SetString(PyExc_TypeError, "unquote() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const char *data = (const char *)PyUnicode_1BYTE_DATA(text);
    if (memchr(data, '%', (size_t)length) == NULL) {
        return Py_NewRef(text); /* unquote returns the same str */
    }
    char *bytes = PyMem_Malloc((size_t)length);
    if (bytes == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t out = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (data[i] == '%' && i + 2 < length) {
            int high = hex_value(data[i + 1]), low = hex_value(data[i + 2]);
            if (high >= 0 && low >= 0) {
                bytes[out++] = (char)(high * 16 + low);
                i += 2;
                continue;
            }
        }
        bytes[out++] = data[i];
    }
    PyObject *result = PyUnicode_DecodeUTF8(bytes, out, "replace");
    PyMem_Free(bytes);
    return result;
}

static PyObject *
configure(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"change",       "sections",   "decoded",   "same",
                            "flat_changes", "flatten",    "walk",      "walk_dicts",
                            "walk_lists",   "relationship_label",      "labels",
                            "path_key",     "diff_sections",           NULL};
    PyObject *change, *values[11];
    PyObject *tuple_of_sections;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOOOOOOOOOO", names, &PyType_Type,
                                     &change, &PyTuple_Type, &tuple_of_sections, &values[0],
                                     &values[1], &values[2], &values[3], &values[4],
                                     &values[5], &values[6], &values[7], &values[8],
                                     &values[9], &values[10])) {
        return NULL;
    }
    if (!tuple_layout(change)) {
        PyErr_SetString(PyExc_TypeError, "change must be a named tuple type without a __dict__");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple_of_sections); i++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(tuple_of_sections, i))) {
            PyErr_SetString(PyExc_TypeError, "sections must be a tuple of str");
            return NULL;
        }
    }
    for (int i = 0; i < 11; i++) {
        if (!PyCallable_Check(values[i])) {
            PyErr_Format(PyExc_TypeError, "%s must be callable", names[i + 2]);
            return NULL;
        }
    }
    PyObject **slots[11] = {&py_decoded,    &py_same,          &py_flat_changes,
                            &py_flatten,    &py_walk,          &py_walk_dicts,
                            &py_walk_lists, &py_relationship_label, &py_labels,
                            &py_path_key,   &py_diff_sections};
    for (int i = 0; i < 11; i++) {
        Py_XSETREF(*slots[i], Py_NewRef(values[i]));
    }
    Py_XSETREF(sections, Py_NewRef(tuple_of_sections));
    Py_XSETREF(change_type, (PyTypeObject *)Py_NewRef(change));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "configure(*, change, sections, decoded, same, flat_changes, flatten, walk, walk_dicts,"
     " walk_lists, relationship_label, labels, path_key, diff_sections): the Change type, the"
     " sections and the Python functions the C code hands the rare cases to."},
    {"diff_sections", (PyCFunction)(void (*)(void))diff_sections, METH_FASTCALL,
     "diff_sections(before, after) -> list[Change]: as configtrail.history.diff's Python one."},
    {"timeline_entries", (PyCFunction)(void (*)(void))timeline_entries, METH_FASTCALL,
     "timeline_entries(items, previous, entry, gone) -> list[Entry]: as diff.py's"
     " python_entries(items, previous), with the Entry type and the GONE statuses."},
    {"unquote", (PyCFunction)unquote, METH_O,
     "unquote(text) -> str | None: urllib.parse.unquote(text) for an ASCII str, else None."},
    {"same", (PyCFunction)(void (*)(void))same_py, METH_FASTCALL,
     "same(a, b) -> bool: _same(a, b) as the C code computes it (for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "configtrail.history._diffcore",
    .m_doc = "diff_sections of configtrail.history.diff in C (see the header of _diffcore.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__diffcore(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } constants[] = {
        {&s_changed, "changed"},
        {&s_added, "added"},
        {&s_removed, "removed"},
        {&s_empty, ""},
        {&s_relationships, "relationships"},
        {&s_resource_id, "resourceId"},
        {&s_resource_name, "resourceName"},
        {&s_name, "name"},
        {&s_relationship_name, "relationshipName"},
        {&s_resource_type, "resourceType"},
        {&s_question, "?"},
        {&s_related_to, "related to"},
        {&s_key, "key"},
        {&s_sort, "sort"},
        {&s_keys, "keys"},
        {&s_strip, "strip"},
        {&s_status, "status"},
        {&s_sections_attr, "sections"},
        {&s_gone, "gone"},
        {&s_first_recorded, "first-recorded"},
        {&s_returned, "returned"},
        {&s_unchanged, "unchanged"},
    };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        if (*constants[i].slot == NULL) {
            *constants[i].slot = PyUnicode_InternFromString(constants[i].text);
            if (*constants[i].slot == NULL) {
                return NULL;
            }
        }
    }
    return PyModule_Create(&module_def);
}
