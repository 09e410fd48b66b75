sensor_DEPS := util conf
