@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops repo ...` when
rem kubectl-gitops-repo.exe itself is on your PATH (a PATH install). See docs/install.md.
kubectl-gitops-repo.exe __complete %*
