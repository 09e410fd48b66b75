schedule_DEPS := util conf cluster signal prom
