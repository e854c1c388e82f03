@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops ...`: install it on
rem your PATH next to kubectl-gitops.exe. See docs/install.md.
kubectl-gitops.exe __complete %*
