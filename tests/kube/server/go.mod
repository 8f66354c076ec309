module npkubeserver

go 1.26
