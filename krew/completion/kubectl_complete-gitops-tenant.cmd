@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops tenant ...` when
rem kubectl-gitops-tenant.exe itself is on your PATH (a PATH install). See docs/install.md.
kubectl-gitops-tenant.exe __complete %*
