page_DEPS := util conf cluster record metrics
