webhook_DEPS := util conf cluster signal http prom
