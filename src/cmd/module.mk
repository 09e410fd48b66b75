cmd_DEPS := util pool conf cluster signal sensor guard policy jp action record engine kube daemon http prom webhook metrics schedule audit page notify approve gitops intake lease sqldb fleet
