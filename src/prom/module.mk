prom_DEPS := util conf cluster signal
