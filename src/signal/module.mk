signal_DEPS := util conf cluster
