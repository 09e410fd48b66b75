util_DEPS :=
quantity_DEPS := util
