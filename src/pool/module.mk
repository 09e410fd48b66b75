pool_DEPS := util
