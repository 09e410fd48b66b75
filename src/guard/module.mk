guard_DEPS := util conf
