action_DEPS := util conf cluster kube guard
