"""crowd-kit's small aggregation fixtures (github.com/Toloka/crowd-kit, tests/conftest.py and
tests/aggregation/test_ds_aggregation.py, Apache-2.0), re-created as plain data: answer tables with crowd-kit's
columns and string ids, and the outcomes its tests assert."""

# toy YSDA: 5 workers, 5 tasks, yes/no (crowd-kit's ``toy_answers_df`` and ``toy_ground_truth_df``)
TOY_COLUMNS = ("worker", "task", "label")
TOY = [
    ('w1', 't1', 'no'),
    ('w1', 't2', 'yes'),
    ('w1', 't3', 'yes'),
    ('w1', 't4', 'yes'),
    ('w1', 't5', 'yes'),
    ('w2', 't1', 'yes'),
    ('w2', 't2', 'yes'),
    ('w2', 't3', 'no'),
    ('w2', 't4', 'yes'),
    ('w2', 't5', 'no'),
    ('w3', 't2', 'yes'),
    ('w3', 't3', 'no'),
    ('w3', 't4', 'yes'),
    ('w3', 't5', 'no'),
    ('w4', 't1', 'yes'),
    ('w4', 't2', 'no'),
    ('w4', 't3', 'yes'),
    ('w4', 't4', 'yes'),
    ('w4', 't5', 'no'),
    ('w5', 't1', 'no'),
    ('w5', 't2', 'no'),
    ('w5', 't3', 'no'),
    ('w5', 't4', 'yes'),
    ('w5', 't5', 'no'),
]
TOY_TRUTH = {'t1': 'yes', 't2': 'yes', 't3': 'no', 't4': 'yes', 't5': 'no'}
# majority vote's outcome (crowd-kit's ``toy_labels_result_mv``); t1 is a 2-2 tie crowd-kit breaks at random
TOY_MV = {"t1": "no", "t2": "yes", "t3": "no", "t4": "yes", "t5": "no"}

# "simple": 6 workers with 32-character ids, 10 tasks, goose/parrot/chicken (``simple_answers_df``)
SIMPLE = [
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893eec', 'goose'),
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893efb', 'parrot'),
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893f03', 'goose'),
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893f05', 'goose'),
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893f02', 'parrot'),
    ('bde3b214b06c1efa6cb1bc6284dc72d2', '1231239876--5fac0d234ffb2f3b00893f08', 'parrot'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893efb', 'parrot'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893ee8', 'chicken'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893f07', 'parrot'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893efd', 'chicken'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893ee4', 'chicken'),
    ('b17c3301ad2ccbb798716fdd405d16e8', '1231239876--5fac0d234ffb2f3b00893f03', 'goose'),
    ('a452e450f913cfa987cad58d50393718', '1231239876--5fac0d234ffb2f3b00893ee8', 'chicken'),
    ('a452e450f913cfa987cad58d50393718', '1231239876--5fac0d234ffb2f3b00893eec', 'goose'),
    ('a452e450f913cfa987cad58d50393718', '1231239876--5fac0d234ffb2f3b00893f05', 'goose'),
    ('a452e450f913cfa987cad58d50393718', '1231239876--5fac0d234ffb2f3b00893f02', 'parrot'),
    ('a452e450f913cfa987cad58d50393718', '1231239876--5fac0d234ffb2f3b00893f08', 'parrot'),
    ('0f65edea0a6dc7b9acba1dea313bbb3d', '1231239876--5fac0d234ffb2f3b00893eec', 'goose'),
    ('0f65edea0a6dc7b9acba1dea313bbb3d', '1231239876--5fac0d234ffb2f3b00893ee8', 'chicken'),
    ('0f65edea0a6dc7b9acba1dea313bbb3d', '1231239876--5fac0d234ffb2f3b00893f03', 'goose'),
    ('0f65edea0a6dc7b9acba1dea313bbb3d', '1231239876--5fac0d234ffb2f3b00893ee4', 'chicken'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893eec', 'parrot'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893efb', 'parrot'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893f07', 'parrot'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893efd', 'parrot'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893ee4', 'parrot'),
    ('0c3eb7d5fcc414db137c4180a654c06e', '1231239876--5fac0d234ffb2f3b00893f05', 'parrot'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893efb', 'parrot'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893ee8', 'goose'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893f02', 'parrot'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893f08', 'parrot'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893f07', 'parrot'),
    ('e563e2fb32fce9f00123a65a1bc78c55', '1231239876--5fac0d234ffb2f3b00893efd', 'goose'),
]
SIMPLE_TRUTH = {
    '1231239876--5fac0d234ffb2f3b00893eec': 'goose',
    '1231239876--5fac0d234ffb2f3b00893f03': 'goose',
    '1231239876--5fac0d234ffb2f3b00893f05': 'goose',
    '1231239876--5fac0d234ffb2f3b00893efb': 'parrot',
    '1231239876--5fac0d234ffb2f3b00893f02': 'parrot',
    '1231239876--5fac0d234ffb2f3b00893f08': 'parrot',
    '1231239876--5fac0d234ffb2f3b00893f07': 'parrot',
    '1231239876--5fac0d234ffb2f3b00893ee8': 'chicken',
    '1231239876--5fac0d234ffb2f3b00893efd': 'chicken',
    '1231239876--5fac0d234ffb2f3b00893ee4': 'chicken',
}

# boolean labels (``data_with_bool_labels``, ``bool_labels_ground_truth``)
BOOL = [
    ("w1", "t1", True), ("w1", "t2", True), ("w2", "t1", True), ("w2", "t2", True),
    ("w3", "t1", False), ("w3", "t2", False),
]
BOOL_TRUTH = {"t1": True, "t2": True}

# Dawid-Skene step by step (test_ds_aggregation.py ``data``, columns task, worker, label): the posteriors after
# 0 and 1 EM iterations (``probas_iter_0``, ``probas_iter_1``, P(no), P(yes)) and the labels they give
DS_STEPS = [
    ("t1", "w1", "no"), ("t1", "w2", "yes"), ("t1", "w4", "yes"), ("t1", "w5", "no"),
    ("t2", "w1", "yes"), ("t2", "w2", "yes"), ("t2", "w3", "yes"), ("t2", "w4", "no"), ("t2", "w5", "no"),
    ("t3", "w1", "yes"), ("t3", "w2", "no"), ("t3", "w3", "no"), ("t3", "w4", "yes"), ("t3", "w5", "no"),
    ("t4", "w1", "yes"), ("t4", "w2", "yes"), ("t4", "w3", "yes"), ("t4", "w4", "yes"), ("t4", "w5", "yes"),
    ("t5", "w1", "yes"), ("t5", "w2", "no"), ("t5", "w3", "no"), ("t5", "w4", "no"), ("t5", "w5", "no"),
]
DS_PROBAS = {
    0: {"t1": (0.5, 0.5), "t2": (0.4, 0.6), "t3": (0.6, 0.4), "t4": (0.0, 1.0), "t5": (0.8, 0.2)},
    1: {"t1": (0.35, 0.65), "t2": (0.26, 0.74), "t3": (0.87, 0.13), "t4": (0.00, 1.00), "t5": (0.95, 0.05)},
}
DS_PRIORS = {0: (0.46, 0.54), 1: (0.49, 0.51)}
DS_LABELS = {0: {"t1": "no", "t2": "yes", "t3": "no", "t4": "yes", "t5": "no"},
             1: {"t1": "yes", "t2": "yes", "t3": "no", "t4": "yes", "t5": "no"}}
