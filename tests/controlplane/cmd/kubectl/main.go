// kubectl for the tests: they edit objects by hand as an admin would (`kubectl set image`,
// `kubectl edit`), and check `kubectl version`. Upstream kubectl, unchanged.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
