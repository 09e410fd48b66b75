util_DEPS :=
# tests/unit/test_X.c (and fuzz/X_fuzz.c) for util/X.c: named after the file
quantity_DEPS := util
re2_DEPS := util
