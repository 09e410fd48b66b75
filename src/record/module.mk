record_DEPS := util conf cluster
