record_DEPS := util cluster
