metrics_DEPS := util conf cluster record
