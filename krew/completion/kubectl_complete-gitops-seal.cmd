@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops seal ...` when
rem kubectl-gitops-seal.exe itself is on your PATH (a PATH install). See docs/install.md.
kubectl-gitops-seal.exe __complete %*
