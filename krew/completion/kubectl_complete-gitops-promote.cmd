@echo off
rem kubectl (1.26 or later) runs this to complete `kubectl gitops promote ...` when
rem kubectl-gitops-promote.exe itself is on your PATH (a PATH install). See docs/install.md.
kubectl-gitops-promote.exe __complete %*
