jp_DEPS := util
# tests/unit/test_quantity.c tests util/quantity.c, which lives in util; the
# test is named after the file, so it needs util linked too.  (Belongs in
# src/util/module.mk; kept here until util's owner moves it.)
