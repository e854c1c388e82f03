@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops drift ...` when
rem kubectl-gitops-drift.exe itself is on your PATH (a PATH install). See docs/install.md.
kubectl-gitops-drift.exe __complete %*
