kube_DEPS := util conf
