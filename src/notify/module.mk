notify_DEPS := util conf record cluster sensor
