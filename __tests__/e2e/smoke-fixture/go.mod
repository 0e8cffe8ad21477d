module example.com/smokefixture

go 1.24
