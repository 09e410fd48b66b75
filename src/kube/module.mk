kube_DEPS := util conf guard
